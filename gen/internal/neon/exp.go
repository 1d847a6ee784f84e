package neon

import (
	"github.com/simdmlp/simdmlp/gen/internal/expconst"
	enc "github.com/simdmlp/simdmlp/gen/neon"
)

// This file emits exp32, sigmoid32 and tanh32 of kernels/ref_exp.go lane
// by lane, with the reference's operations in its order and no fused
// multiply-add, so every lane is bit-identical to the scalar reference.

type V = enc.V

// Constant registers, V16 up, loaded once per kernel by Constants; the
// bodies' data and temporaries use V0–V15.
const (
	KZero V = 16 + iota
	KOne
	KMax
	KMin
	KLog2e
	KMagic
	KLn2Hi
	KLn2Lo
	KC2
	KC3
	KC4
	KC5
	KC6
	KMinNormal
	K127 // int32 127
	KTwo
)

// Constants of tanh's polynomial, loaded only by the tanh kernels into
// registers the exponential does not use.
const (
	KSmall V = 8 + iota // V8…
	KT3
	KT5
	KT7
	KT9
	KT11
	KSign
)

// Constants loads zero and one, then the exponential's constants and
// tanh's when the kernel needs them.
func Constants(f *enc.File, exp, tanh bool) {
	Zero(f, KZero)
	Const(f, KOne, 1)
	if exp {
		Const(f, KMax, expconst.MaxArg)
		Const(f, KMin, expconst.MinArg)
		Const(f, KLog2e, expconst.Log2e)
		Const(f, KMagic, expconst.RoundMagic)
		Const(f, KLn2Hi, expconst.Ln2Hi)
		Const(f, KLn2Lo, expconst.Ln2Lo)
		Const(f, KC2, expconst.C2)
		Const(f, KC3, expconst.C3)
		Const(f, KC4, expconst.C4)
		Const(f, KC5, expconst.C5)
		Const(f, KC6, expconst.C6)
		Const(f, KMinNormal, expconst.MinNormal)
		f.I("MOVW $127, R9")
		f.I("VDUP R9, V%d.S4", K127)
		Const(f, KTwo, 2)
	}
	if tanh {
		Const(f, KSmall, expconst.TanhSmall)
		Const(f, KT3, expconst.TanhT3)
		Const(f, KT5, expconst.TanhT5)
		Const(f, KT7, expconst.TanhT7)
		Const(f, KT9, expconst.TanhT9)
		Const(f, KT11, expconst.TanhT11)
		Bits(f, KSign, 0x80000000)
	}
}

// Exp emits y = exp32(x) for x in V1 into V1, clobbering V2–V6.
func Exp(f *enc.File) {
	w := f.W
	x, t, n, k, r, u := V(1), V(2), V(3), V(4), V(5), V(6)
	w(enc.FMIN(x, x, KMax))
	w(enc.FMAX(x, x, KMin))
	w(enc.FMUL(t, x, KLog2e))
	w(enc.FADD(t, t, KMagic))
	w(enc.FSUB(n, t, KMagic))
	f.I("VSUB V%d.S4, V%d.S4, V%d.S4", KMagic, t, k) // k = bits(t) − bits(magic)
	w(enc.FMUL(u, n, KLn2Hi))
	w(enc.FSUB(r, x, u))
	w(enc.FMUL(u, n, KLn2Lo))
	w(enc.FSUB(r, r, u))
	q := n
	w(enc.FMUL(q, KC6, r))
	w(enc.FADD(q, q, KC5))
	w(enc.FMUL(q, q, r))
	w(enc.FADD(q, q, KC4))
	w(enc.FMUL(q, q, r))
	w(enc.FADD(q, q, KC3))
	w(enc.FMUL(q, q, r))
	w(enc.FADD(q, q, KC2))
	p := t
	w(enc.FMUL(p, r, r))
	w(enc.FMUL(p, p, q))
	w(enc.FADD(p, p, r))
	w(enc.FADD(p, p, KOne))
	// 2ⁿ as 2^(k>>1)·2^(k−k>>1), from exponent bits.
	k1, k2 := u, r
	w(enc.SSHR(k1, k, 1))
	f.I("VSUB V%d.S4, V%d.S4, V%d.S4", k1, k, k2)
	f.I("VADD V%d.S4, V%d.S4, V%d.S4", K127, k1, k1)
	f.I("VSHL $23, V%d.S4, V%d.S4", k1, k1)
	f.I("VADD V%d.S4, V%d.S4, V%d.S4", K127, k2, k2)
	f.I("VSHL $23, V%d.S4, V%d.S4", k2, k2)
	w(enc.FMUL(x, p, k1))
	w(enc.FMUL(x, x, k2))
	// Below the smallest normal (NaN is not) becomes 0.
	w(enc.FCMGT(k, KMinNormal, x))
	f.I("VBIT V%d.B16, V%d.B16, V%d.B16", k, KZero, x)
}

// Op computes dst from src lane by lane; it may clobber V1–V7 and V15 and
// reads the constant registers.
type Op func(f *enc.File, dst, src V)

// Relu: lanes with 0 > x become +0; −0 fails the test and NaN too, so
// both are kept, as relu32 keeps them.
func Relu(f *enc.File, dst, src V) {
	f.W(enc.FCMGT(7, KZero, src))
	if dst != src {
		f.I("VMOV V%d.B16, V%d.B16", src, dst)
	}
	f.I("VBIT V7.B16, V%d.B16, V%d.B16", KZero, dst)
}

// Sigmoid follows sigmoid32: e = exp(−|x|), then (x < 0 ? e : 1)/(1+e)
// with the numerator chosen by the sign bit.
func Sigmoid(f *enc.File, dst, src V) {
	f.W(enc.FABS(1, src))
	f.W(enc.FNEG(1, 1))
	Exp(f)
	f.W(enc.SSHR(7, src, 31))
	f.W(enc.FADD(2, KOne, 1))
	f.I("VBSL V%d.B16, V1.B16, V7.B16", KOne) // V7 = sign ? e : 1
	f.W(enc.FDIV(dst, 7, 2))
}

// Tanh follows tanh32: the polynomial below tanhSmall, 1 − 2/(e^{2|x|}+1)
// from there on, both on |x|, then x's sign copied in. src is kept until
// the end for its sign.
func Tanh(f *enc.File, dst, src V) {
	w := f.W
	a, a2, pp, ts := V(7), V(2), V(3), V(15)
	// V15 is free: the tanh constants end at V14.
	w(enc.FABS(a, src))
	w(enc.FMUL(a2, a, a))
	w(enc.FMUL(pp, KT11, a2))
	w(enc.FADD(pp, pp, KT9))
	w(enc.FMUL(pp, pp, a2))
	w(enc.FADD(pp, pp, KT7))
	w(enc.FMUL(pp, pp, a2))
	w(enc.FADD(pp, pp, KT5))
	w(enc.FMUL(pp, pp, a2))
	w(enc.FADD(pp, pp, KT3))
	w(enc.FMUL(ts, a, a2))
	w(enc.FMUL(ts, ts, pp))
	w(enc.FADD(ts, a, ts))
	w(enc.FADD(1, a, a))
	Exp(f)
	w(enc.FADD(1, 1, KOne))
	w(enc.FDIV(1, KTwo, 1))
	w(enc.FSUB(1, KOne, 1))
	w(enc.FCMGT(a, KSmall, a)) // |x| < tanhSmall
	f.I("VBSL V1.B16, V%d.B16, V%d.B16", ts, a)
	f.I("VAND V%d.B16, V%d.B16, V1.B16", KSign, src)
	f.I("VORR V1.B16, V%d.B16, V%d.B16", a, dst)
}
