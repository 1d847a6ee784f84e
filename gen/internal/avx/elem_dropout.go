package avx

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Dropout: the mask is a hash of each unit's counter, recomputed in every
// lane rather than read from memory (kernels/dropout.go has the formulas),
// so the kernel is integer arithmetic on one input stream and one output
// stream. Lane i of a vector holds counter Counter+j+i; the counter vector
// starts as Counter+iota and moves on by the vector width per step, which
// the tail reuses unchanged, so the tail's lanes get the counters of the
// elements they hold.

// The multipliers of the hash's mixing function (dropoutMix in
// kernels/dropout.go). TestDropout* compare every level with the
// reference bit for bit, which fails on a wrong constant.
const (
	dropoutM1 = 0x7feb352d
	dropoutM2 = 0x846ca68b
)

func init() {
	elemConstBits["dropM1"] = dropoutM1
	elemConstBits["dropM2"] = dropoutM2
}

// dropout emits Dropout: func(dst, x []float32, key0, key1, counter,
// threshold uint32, scale float32).
func (a *ElemLevel) dropout() {
	s := a.Suffix
	a.begin("Dropout", "func(dst, x []float32, key0, key1, counter, threshold uint32, scale float32)",
		"Dropout"+s+" sets dst[i] = x[i]·scale where h(counter+i)>>8 ≥ threshold, else +0,",
		"for i < len(x), with h(c) = mix(mix(c^key0)^key1) the hash of kernels.DropoutParams:",
		"the bits of refDropout in package kernels. threshold ≤ 2²⁴; len(dst) ≥ len(x);",
		"dst is x or does not overlap it.",
		a.why())
	dst := elemArg(Param("dst").Base())
	x := elemArg(Param("x").Base())
	n := elemArg(Param("x").Len())

	// VBROADCASTSS copies 32 bits whatever they mean; go vet's asmdecl
	// check knows its operand size, not VPBROADCASTD's.
	k0, k1, sc, ctr := a.v(), a.v(), a.v(), a.v()
	VBROADCASTSS(elemArgAddr(Param("key0")), k0)
	VBROADCASTSS(elemArgAddr(Param("key1")), k1)
	VBROADCASTSS(elemArgAddr(Param("scale")), sc)
	VBROADCASTSS(elemArgAddr(Param("counter")), ctr)
	VPADDD(a.c("iota"), ctr, ctr)
	thr := a.v()
	var allow OpmaskVirtual
	if a.is512 {
		// h>>8 ≥ t is h ≥ t·2⁸ (unsigned), which saves the shift in the
		// loop, measurably (about 7% on Zen 5): the loop is bound by its
		// vector operations, not by memory. t·2⁸ overflows only for
		// t = 2²⁴, which keeps nothing: allow, the compare's write mask,
		// is all ones for t < 2²⁴ (SBB of the borrow) and zero for 2²⁴.
		t, all := GP32(), GP32()
		MOVL(elemArgAddr(Param("threshold")), t)
		CMPL(t, U32(1<<24))
		SBBL(all, all)
		allow = K()
		KMOVW(all, allow)
		SHLL(U8(8), t)
		VPBROADCASTD(t, thr)
	} else {
		// AVX2 compares only signed, for "greater than": h>>8 ≥ t is
		// h>>8 > t−1, and as h>>8 < 2²⁴ and t ≤ 2²⁴ both sides fit in a
		// signed int32; t = 0 gives −1, which every lane exceeds.
		t := GP32()
		MOVL(elemArgAddr(Param("threshold")), t)
		DECL(t)
		tx := XMM()
		VMOVD(t, tx)
		VPBROADCASTD(tx, thr)
	}
	a.preload("dropM1", "dropM2", "lanes")

	a.loop(n, func(c *elemChunk) {
		h := a.v()
		a.pxor(k0, ctr, h)
		a.dropoutMix(h, k1)
		a.dropoutMix(h, nil)
		v := c.load(x)
		if a.is512 {
			keep := K()
			VPCMPUD(U8(5), thr, h, allow, keep) // 5 is "not less than"
			VMULPS_Z(sc, v, keep, v)
		} else {
			VPSRLD(U8(8), h, h)
			VPCMPGTD(thr, h, h) // h>>8 > t−1
			VMULPS(sc, v, v)
			VANDPS(h, v, v)
		}
		c.store(v, dst)
		VPADDD(a.c("lanes"), ctr, ctr)
	})
	End()
}

// dropoutMix applies the hash's mixing function to every lane of h in
// place, then XORs in key when it is not nil. On AVX-512 that XOR and the
// function's last one are a single three-way VPTERNLOGD.
func (a *ElemLevel) dropoutMix(h, key VecVirtual) {
	t := a.v()
	shiftXor := func(by uint8) {
		VPSRLD(U8(by), h, t)
		a.pxor(t, h, h)
	}
	shiftXor(16)
	VPMULLD(a.c("dropM1"), h, h)
	shiftXor(15)
	VPMULLD(a.c("dropM2"), h, h)
	switch {
	case key == nil:
		shiftXor(16)
	case a.is512:
		VPSRLD(U8(16), h, t)
		VPTERNLOGD(U8(0x96), key, t, h) // 0x96: h ^ t ^ key
	default:
		shiftXor(16)
		a.pxor(key, h, h)
	}
}

// pxor is VPXOR, which has no EVEX form: AVX-512 names it VPXORD.
func (a *ElemLevel) pxor(x, y, dst VecVirtual) {
	if a.is512 {
		VPXORD(x, y, dst)
	} else {
		VPXOR(x, y, dst)
	}
}
