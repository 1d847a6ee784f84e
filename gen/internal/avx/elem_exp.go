package avx

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The exponential and the activations built on it, lane by lane as
// kernels/ref_exp.go computes them (see elem.go).

// exp returns exp32(x) lane by lane; x is not modified. See ref_exp.go
// for the algorithm; every step here is the same float32 operation.
func (a *ElemLevel) exp(x VecVirtual) VecVirtual {
	// min and max with x as the operand returned on NaN keep NaN.
	t := a.v()
	VMINPS(x, a.cr("maxArg"), t)
	VMAXPS(t, a.cr("minArg"), t)
	n := a.v()
	VMULPS(a.c("log2e"), t, n)
	kv := a.v()
	VADDPS(a.c("magic"), n, kv)
	VSUBPS(a.c("magic"), kv, n)
	r := a.v()
	VMULPS(a.c("ln2hi"), n, r)
	VSUBPS(r, t, r)
	u := a.v()
	VMULPS(a.c("ln2lo"), n, u)
	VSUBPS(u, r, r)
	q := a.v()
	VMULPS(a.c("c6"), r, q)
	VADDPS(a.c("c5"), q, q)
	for _, c := range []string{"c4", "c3", "c2"} {
		VMULPS(r, q, q)
		VADDPS(a.c(c), q, q)
	}
	VMULPS(r, r, u)
	VMULPS(q, u, u)
	VADDPS(r, u, u)
	VADDPS(a.c("one"), u, u)
	if a.is512 {
		// p·2ⁿ with one rounding, as the reference's two exact-then-one
		// rounding factors give; n is at most 128 after the clamp.
		VSCALEFPS(n, u, u)
		k := K()
		VCMPPS(U8(5), a.c("minNormal"), u, k) // not less than (NaN kept)
		VMOVAPS_Z(u, k, u)
	} else {
		VPSUBD(a.c("magic"), kv, kv) // n as an integer
		// The lanes the reference flushes are found from n and p instead
		// of from the product: forming a subnormal product costs a
		// microcode assist per instruction on these cores (bench/README.md,
		// "Subnormal results in the AVX exp"). p·2ⁿ ≥ 2⁻¹²⁶ exactly when
		// n ≥ −125, or n = −126 and p ≥ 1−2⁻²⁴ (p·2⁻¹²⁶ then rounds, ties
		// to even, to at least 2⁻¹²⁶, which is max(p, 1)·2⁻¹²⁶ exactly).
		// The flushed lanes scale by 2⁰ and are cleared; NaN lanes are
		// never flushed.
		fl := a.v()
		VPCMPGTD(kv, a.cr("iM126"), fl) // n < −126
		e126 := a.v()
		VPCMPEQD(a.c("iM126"), kv, e126)
		lt := a.v()
		VCMPPS(U8(1), a.c("oneMinusUlp"), u, lt) // p < 1−2⁻²⁴, false for NaN
		VANDPS(e126, lt, lt)
		VORPS(lt, fl, fl)
		VCMPPS(U8(7), u, u, lt) // ordered: p is not NaN
		VANDPS(lt, fl, fl)
		VMAXPS(u, a.cr("one"), lt) // NaN p stays NaN
		VBLENDVPS(e126, lt, u, u)
		VPANDN(kv, fl, kv)
		k1 := a.v()
		VPSRAD(U8(1), kv, k1)
		VPSUBD(k1, kv, kv)
		VPADDD(a.c("i127"), k1, k1)
		VPSLLD(U8(23), k1, k1)
		VPADDD(a.c("i127"), kv, kv)
		VPSLLD(U8(23), kv, kv)
		VMULPS(k1, u, u)
		VMULPS(kv, u, u)
		VANDNPS(u, fl, u)
	}
	return u
}

// sigmoid returns sigmoid32(x) lane by lane: e = exp(−|x|), then e/(1+e)
// where the sign bit of x is set and 1/(1+e) elsewhere.
func (a *ElemLevel) sigmoid(x VecVirtual) VecVirtual {
	na := a.v()
	VORPS(a.c("signBit"), x, na)
	e := a.exp(na)
	num := a.v()
	if a.is512 {
		k := K()
		VPMOVD2M(x, k)
		VBLENDMPS(e, a.cr("one"), k, num)
	} else {
		VBLENDVPS(x, e, a.cr("one"), num)
	}
	VADDPS(a.c("one"), e, e)
	VDIVPS(e, num, num)
	return num
}

// tanh returns tanh32(x) lane by lane: both the small-|x| polynomial and
// the exp form, chosen per lane, with the sign of x copied in.
func (a *ElemLevel) tanh(x VecVirtual) VecVirtual {
	ax := a.v()
	VANDPS(a.c("absMask"), x, ax)
	a2 := a.v()
	VMULPS(ax, ax, a2)
	p := a.v()
	VMULPS(a.c("t11"), a2, p)
	VADDPS(a.c("t9"), p, p)
	for _, c := range []string{"t7", "t5", "t3"} {
		VMULPS(a2, p, p)
		VADDPS(a.c(c), p, p)
	}
	VMULPS(ax, a2, a2)
	VMULPS(p, a2, a2)
	VADDPS(ax, a2, a2) // polynomial form

	d := a.v()
	VADDPS(ax, ax, d)
	e := a.exp(d)
	VADDPS(a.c("one"), e, e)
	VDIVPS(e, a.cr("two"), e)
	VSUBPS(e, a.cr("one"), e) // exp form
	if a.is512 {
		k := K()
		VCMPPS(U8(1), a.c("tanhSmall"), ax, k)
		VMOVAPS(a2, k, e)
	} else {
		m := a.v()
		VCMPPS(U8(1), a.c("tanhSmall"), ax, m)
		VBLENDVPS(m, a2, e, e)
	}
	s := a.v()
	VANDPS(a.c("signBit"), x, s)
	VORPS(s, e, e)
	return e
}

// relu keeps x unless it is below zero: MAXPS returns its second source
// (x) when they are unordered or equal, so NaN and −0 survive.
func (a *ElemLevel) relu(x VecVirtual) VecVirtual {
	z := a.v()
	VXORPS(z, z, z)
	VMAXPS(x, z, x)
	return x
}
