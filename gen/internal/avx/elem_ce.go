package avx

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The fused softmax cross-entropy: exponentials, probabilities and
// gradient per row, then each row's loss in float64 lanes.

// ceArgs holds what both row paths of the cross-entropy read. The
// lengths of probs and grad stay in the argument frame (pl, gl): the
// registers are short here.
type ceArgs struct {
	probs, grad, z, labels, rows, cols, stats GPVirtual
	// buf is where the general path parks the exponentials: probs, or
	// grad when probs is not written.
	buf            GPVirtual
	pl, gl         Mem
	stats0, nrows  Mem
	invBv, negInvB VecVirtual
}

// crossEntropy emits the fused softmax cross-entropy of
// refSoftmaxCrossEntropy for up to CEStatsRows rows: per row the
// exponentials, their float64 sums other (all but the label's) and s,
// d = logit[y] − max in float64, probs and grad; then, in float64 lanes
// over all rows, each row's loss (ceLoss). The Go caller adds the losses
// in row order, as the reference does. probs and grad are written when
// their length is not zero; in the general path the exponentials are
// parked in whichever exists first, as the reference does.
func (a *ElemLevel) crossEntropy() {
	s := a.Suffix
	a.begin("SoftmaxCrossEntropy", "func(probs, grad, logits []float32, labels []int32, rows, cols int, invB float64, stats []float64)",
		"SoftmaxCrossEntropy"+s+" is refSoftmaxCrossEntropy in package kernels for at most 64 rows,",
		"except the final sum: it writes probs and grad (each skipped when its length is 0) and",
		"sets stats[i] to the loss of row i, log1p(other) when d = 0 and log(s) − d otherwise, with",
		"other = Σ exp(z−max) over the row but the label (float64), s = other + the label's",
		"exponential, d = z[label] − max (float64); stats[64+i] and stats[128+i] hold s and d.",
		"The logarithms are float64 series within a few float64 ulps (the reference calls",
		"math.Log and math.Log1p). The gradient is (probs − onehot)·invB, the label's computed",
		"as −other/s·invB for full relative precision. Preconditions: 1 ≤ rows ≤ 64, cols ≥ 1,",
		"every label in [0, cols), len(logits) ≥ rows·cols, probs and grad empty or ≥ rows·cols,",
		"len(labels) ≥ rows, len(stats) = 192.")
	ca := a.ceLoadArgs()
	lEnd := a.label("end")
	a.smallRows(ca.cols, lEnd, func(slots []*elemChunk) { a.ceShortRows(ca, slots) })
	a.ceLongRows(ca)
	Label(lEnd)
	a.ceLoss(ca.stats0, ca.nrows)
	End()
}

// ceLoadArgs loads the cross-entropy's arguments and the invB vectors
// both row paths scale by, and preloads exp's constants.
func (a *ElemLevel) ceLoadArgs() *ceArgs {
	ca := &ceArgs{}
	ca.probs = elemArg(Param("probs").Base())
	ca.grad = elemArg(Param("grad").Base())
	ca.pl, ca.gl = elemArgAddr(Param("probs").Len()), elemArgAddr(Param("grad").Len())
	ca.z = elemArg(Param("logits").Base())
	ca.labels = elemArg(Param("labels").Base())
	ca.rows = elemArg(Param("rows"))
	ca.cols = elemArg(Param("cols"))
	invB := XMM()
	Load(Param("invB"), invB)
	ca.stats = elemArg(Param("stats").Base())
	ca.stats0, ca.nrows = elemArgAddr(Param("stats").Base()), elemArgAddr(Param("rows"))
	ca.buf = GP64()
	MOVQ(ca.probs, ca.buf)
	CMPQ(ca.pl, Imm(0))
	CMOVQEQ(ca.grad, ca.buf)
	ca.invBv = a.v()
	VBROADCASTSD(invB, ca.invBv)
	ca.negInvB = XMM()
	VXORPD(ca.negInvB, ca.negInvB, ca.negInvB)
	VSUBSD(invB, ca.negInvB, ca.negInvB)
	a.preload(elemExpConsts...)
	return ca
}

// ceNoBuf jumps to target when neither probs nor grad is written: the
// row's outputs, and the parking of its exponentials, are then skipped.
func (a *ElemLevel) ceNoBuf(ca *ceArgs, target string) {
	lHas := a.label("hasbuf")
	CMPQ(ca.pl, Imm(0))
	JNE(LabelRef(lHas))
	CMPQ(ca.gl, Imm(0))
	JEQ(LabelRef(target))
	Label(lHas)
}

// ceSplitSums adds the exponentials e to the float64 sums: the label's
// lane (where yv equals the lane index) to ey, every other lane to oth.
// eo receives e without the label's lane; it may be e itself.
func (a *ElemLevel) ceSplitSums(e, eo, et, yv, oth, ey VecVirtual) {
	if a.is512 {
		k := K()
		VPCMPEQD(a.c("iota"), yv, k)
		VMOVAPS_Z(e, k, et)
		KNOTW(k, k)
		VMOVAPS_Z(e, k, eo)
	} else {
		eq := a.v()
		VPCMPEQD(a.c("iota"), yv, eq)
		VANDPS(eq, e, et)
		VANDNPS(e, eq, eo)
	}
	lo, hi := a.widen(eo)
	VADDPD(lo, oth, oth)
	VADDPD(hi, oth, oth)
	lo, hi = a.widen(et)
	VADDPD(lo, ey, ey)
	VADDPD(hi, ey, ey)
}

// ceShortRows emits the cross-entropy's rows for short rows held in the
// fixed slots: one load per slot, the exponentials kept in registers for
// the outputs instead of parked in memory.
func (a *ElemLevel) ceShortRows(ca *ceArgs, slots []*elemChunk) {
	fill := a.cr("negInf")
	a.rows(ca.rows, ca.cols, []GPVirtual{ca.probs, ca.grad, ca.z}, func() {
		lNext := a.label("next")
		y := GP64()
		MOVLQSX(Mem{Base: ca.labels}, y)
		vs := make([]VecVirtual, len(slots))
		acc := a.v()
		for i, c := range slots {
			vs[i] = c.loadFill(ca.z, fill)
			if i == 0 {
				VMOVUPS(vs[0], acc)
			} else {
				VMAXPS(vs[i], acc, acc)
			}
		}
		m := a.hmax(acc)
		yv := a.bcast32(y.As32())
		oth, ey := a.v(), a.v()
		VXORPS(oth, oth, oth)
		VXORPS(ey, ey, ey)
		es := make([]VecVirtual, len(slots))
		for i, c := range slots {
			VSUBPS(m, vs[i], vs[i])
			es[i] = a.exp(vs[i])
			c.active(es[i])
			eo, et := a.v(), a.v()
			if i > 0 {
				VPSUBD(a.c("lanes"), yv, yv)
			}
			a.ceSplitSums(es[i], eo, et, yv, oth, ey)
		}
		other, sum := a.ceStats(oth, ey, m, ca.z, y, ca.stats)
		a.ceNoBuf(ca, lNext)
		invv, gyv := a.ceScale(other, sum, ca.negInvB)
		yv = a.bcast32(y.As32())
		for i, c := range slots {
			if i > 0 {
				VPSUBD(a.c("lanes"), yv, yv)
			}
			a.ceOut(c, es[i], yv, invv, ca.invBv, gyv, ca.probs, ca.grad, ca.pl, ca.gl)
		}
		Label(lNext)
		ADDQ(U8(4), ca.labels)
		ADDQ(U8(8), ca.stats)
	})
}

// ceLongRows emits the general cross-entropy row loop: three passes over
// the row (max; exponentials, parked in buf, and their sums; outputs).
func (a *ElemLevel) ceLongRows(ca *ceArgs) {
	a.rows(ca.rows, ca.cols, []GPVirtual{ca.probs, ca.grad, ca.z, ca.buf}, func() {
		lNext := a.label("next")
		y := GP64()
		MOVLQSX(Mem{Base: ca.labels}, y)

		acc := a.copyc("negInf")
		fill := a.cr("negInf")
		a.loop(ca.cols, func(c *elemChunk) {
			VMAXPS(c.loadFill(ca.z, fill), acc, acc)
		})
		m := a.hmax(acc)

		yv := a.bcast32(y.As32())
		oth, ey := a.v(), a.v()
		VXORPS(oth, oth, oth)
		VXORPS(ey, ey, ey)
		a.loop(ca.cols, func(c *elemChunk) {
			v := c.load(ca.z)
			VSUBPS(m, v, v)
			e := a.exp(v)
			lSkip := a.label("nobuf")
			a.ceNoBuf(ca, lSkip)
			c.store(e, ca.buf)
			Label(lSkip)
			c.active(e)
			et := a.v()
			a.ceSplitSums(e, e, et, yv, oth, ey)
			VPSUBD(a.c("lanes"), yv, yv)
		})
		other, sum := a.ceStats(oth, ey, m, ca.z, y, ca.stats)
		a.ceNoBuf(ca, lNext)
		invv, gyv := a.ceScale(other, sum, ca.negInvB)
		yv = a.bcast32(y.As32())
		a.loop(ca.cols, func(c *elemChunk) {
			a.ceOut(c, c.load(ca.buf), yv, invv, ca.invBv, gyv, ca.probs, ca.grad, ca.pl, ca.gl)
			VPSUBD(a.c("lanes"), yv, yv)
		})

		Label(lNext)
		ADDQ(U8(4), ca.labels)
		ADDQ(U8(8), ca.stats)
	})
}

// ceStats finishes a cross-entropy row's sums: other and e_y from their
// float64 lane accumulators, s = other + e_y, d = z[y] − m in float64,
// written to stats[0:3]. It returns other and s (low lanes of XMMs).
func (a *ElemLevel) ceStats(oth, ey, m VecVirtual, z, y, stats GPVirtual) (other, sum VecVirtual) {
	other = a.hsum64(oth)
	sum = a.hsum64(ey)
	VADDSD(sum, other, sum)
	d, mm := XMM(), XMM()
	VXORPS(d, d, d)
	VXORPS(mm, mm, mm)
	VCVTSS2SD(Mem{Base: z, Index: y, Scale: 4}, d, d)
	VCVTSS2SD(m.AsX(), mm, mm)
	VSUBSD(mm, d, d)
	VMOVSD(other, Mem{Base: stats})
	VMOVSD(sum, Mem{Base: stats, Disp: 8 * CEStatsRows})
	VMOVSD(d, Mem{Base: stats, Disp: 16 * CEStatsRows})
	return other, sum
}

// CEStatsRows is the row capacity of the cross-entropy's stats array:
// the Go glue hands the assembly at most this many rows at a time, with a
// stack array of 3·CEStatsRows float64s.
const CEStatsRows = 64

// ceLoss emits the loss pass of the cross-entropy: for the rows whose
// (other, s, d) sit in the three thirds of the stats array at stats0, it
// sets stats[i] to the row's loss, log1p(other) when d = 0 and
// log(s) − d otherwise, as refSoftmaxCrossEntropy computes them (Go's
// math.Log and math.Log1p there). The logarithm is evaluated in float64
// lanes: s ≥ 1 is split as 2ᵏ·f with f in [√½, √2), and
// log f = 2·atanh(u), u = (f−1)/(f+1), |u| ≤ 0.1716, is summed to the
// u²¹ term, a truncation below 1e-17 relative. For d = 0 and k = 0 it
// takes u = other/(2+other) from other itself, so a tiny loss keeps its
// relative precision (s = 1 + other would have rounded it away). The
// error is a few float64 ulps: far inside the documented 2⁻²² relative.
// Whole vectors run up to the row count rounded up, which the array's
// capacity of CEStatsRows (a multiple of 8) always holds.
func (a *ElemLevel) ceLoss(stats0, nrows Mem) {
	st, n, i := GP64(), GP64(), GP64()
	MOVQ(stats0, st)
	MOVQ(nrows, n)
	XORQ(i, i)
	lLoop, lDone := a.label("lossloop"), a.label("lossdone")
	Label(lLoop)
	CMPQ(i, n)
	JGE(LabelRef(lDone))
	at := func(third int) Mem { return Mem{Base: st, Index: i, Scale: 8, Disp: 8 * CEStatsRows * third} }
	other, sum, d := a.v(), a.v(), a.v()
	VMOVUPD(at(0), other)
	VMOVUPD(at(1), sum)
	VMOVUPD(at(2), d)

	// s = 2^e·m with m in [1, 2): e from the exponent bits, m from the
	// mantissa with the exponent of 1.
	e := a.v()
	VPSRLQ(U8(52), sum, e)
	VPSUBQ(a.c64("i1023"), e, e)
	f := a.v()
	VANDPD(a.c64("mantMask"), sum, f)
	VORPD(a.c64("one"), f, f)
	half := a.v()
	VMULPD(a.c64("half"), f, half)
	zero := a.v()
	VXORPD(zero, zero, zero)
	k := a.v()
	if a.is512 {
		big := K()
		VCMPPD(U8(0x1d), a.c64("sqrt2"), f, big) // f ≥ √2: halve, e+1
		VMOVAPD(half, big, f)
		VPSUBQ(a.c64("minusOne"), e, big, e)
		VCVTQQ2PD(e, k)
		dz := K()
		VCMPPD(U8(0), zero, d, dz) // d = 0
		kz := K()
		VCMPPD(U8(0), zero, k, dz, kz) // and k = 0: u from other
		num, den := a.v(), a.v()
		VSUBPD(a.c64("one"), f, num)
		VADDPD(a.c64("one"), f, den)
		VMOVAPD(other, kz, num)
		VADDPD(a.c64("two"), other, kz, den)
		a.logTail(num, den, k, sum, d, dz, at(0))
	} else {
		big := a.v()
		VCMPPD(U8(0x1d), a.c64("sqrt2"), f, big)
		VBLENDVPD(big, half, f, f)
		VPSUBQ(big, e, e) // all-ones lanes are −1
		// e is small: adding 2⁵² as an integer to its bits makes the
		// double 2⁵² + e.
		VPADDQ(a.c64("two52"), e, k)
		VSUBPD(a.c64("two52"), k, k)
		dz := a.v()
		VCMPPD(U8(0), zero, d, dz)
		kz := a.v()
		VCMPPD(U8(0), zero, k, kz)
		VANDPD(dz, kz, kz)
		num, den := a.v(), a.v()
		VSUBPD(a.c64("one"), f, num)
		VADDPD(a.c64("one"), f, den)
		VBLENDVPD(kz, other, num, num)
		o2 := a.v()
		VADDPD(a.c64("two"), other, o2)
		VBLENDVPD(kz, o2, den, den)
		a.logTail(num, den, k, sum, d, dz, at(0))
	}
	ADDQ(Imm(uint64(a.Lanes/2)), i)
	JMP(LabelRef(lLoop))
	Label(lDone)
}

// logTail finishes ceLoss for one vector: L = k·ln2 + 2·atanh(num/den),
// NaN when s is, and the loss L (where the mask dz marks d = 0) or L − d,
// stored over other.
func (a *ElemLevel) logTail(num, den, k, sum, d VecVirtual, dz Op, out Mem) {
	u := a.v()
	VDIVPD(den, num, u)
	u2 := a.v()
	VMULPD(u, u, u2)
	p := a.v()
	VMOVUPD(a.c64("atanh10"), p)
	for j := 9; j >= 0; j-- {
		VFMADD213PD(a.c64(fmt.Sprintf("atanh%d", j)), u2, p) // p = p·u2 + 1/(2j+1)
	}
	VADDPD(u, u, u)
	VMULPD(u, p, p)
	VFMADD231PD(a.c64("ln2"), k, p) // + k·ln2
	nan := a.v()
	VMULPD(a.c64("zero"), sum, nan) // 0, or NaN when s is NaN
	VADDPD(nan, p, p)
	l := a.v()
	VSUBPD(d, p, l)
	if a.is512 {
		VMOVAPD(p, dz.(OpmaskVirtual), l)
	} else {
		VBLENDVPD(dz, p, l, l)
	}
	VMOVUPD(l, out)
}

// elemF64Bits are the float64 (and int64) constants of the loss pass.
var elemF64Bits = map[string]uint64{
	"i1023":    1023,
	"minusOne": math.MaxUint64,
	"mantMask": 1<<52 - 1,
	"one":      math.Float64bits(1),
	"two":      math.Float64bits(2),
	"half":     math.Float64bits(0.5),
	"zero":     0,
	"sqrt2":    math.Float64bits(math.Sqrt2),
	"two52":    math.Float64bits(1 << 52),
	"ln2":      math.Float64bits(math.Ln2),
}

// c64 returns the full-width vector of float64 constant name as a memory
// operand; atanhJ is 1/(2J+1), the series coefficients.
func (a *ElemLevel) c64(name string) Mem {
	key := "d_" + name
	if m, ok := a.consts[key]; ok {
		return m
	}
	bits, ok := elemF64Bits[name]
	if !ok {
		var j int
		if _, err := fmt.Sscanf(name, "atanh%d", &j); err != nil {
			panic("avx: unknown float64 constant " + name)
		}
		bits = math.Float64bits(1 / float64(2*j+1))
	}
	m := GLOBL(key, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(8*i, U64(bits))
	}
	a.consts[key] = m
	return m
}

// ceScale returns 1/s as a float64 vector and the label's gradient
// −other·(1/s)·invB, rounded to float32, in every lane.
func (a *ElemLevel) ceScale(other, sum, negInvB VecVirtual) (invv, gyv VecVirtual) {
	inv, invv := a.recip64(sum)
	gy := XMM()
	VMULSD(inv, other, gy)
	VMULSD(negInvB, gy, gy) // negation is exact, so this is −(other·inv·invB)
	VCVTSD2SS(gy, gy, gy)
	gyv = a.v()
	VBROADCASTSS(gy, gyv)
	return invv, gyv
}

// ceOut writes one chunk of a cross-entropy row's outputs from its
// exponentials e: probs = e/s and grad = probs·invB, except in the label's
// lane (where yv equals the lane index) which gets gyv.
func (a *ElemLevel) ceOut(c *elemChunk, e, yv, invv, invBv, gyv VecVirtual, probs, grad GPVirtual, pl, gl Mem) {
	lo, hi := a.widen(e)
	VMULPD(invv, lo, lo)
	VMULPD(invv, hi, hi)
	lNoP, lNoG := a.label("noprobs"), a.label("nograd")
	CMPQ(pl, Imm(0))
	JEQ(LabelRef(lNoP))
	c.store(a.narrow(lo, hi), probs)
	Label(lNoP)
	CMPQ(gl, Imm(0))
	JEQ(LabelRef(lNoG))
	VMULPD(invBv, lo, lo)
	VMULPD(invBv, hi, hi)
	g := a.narrow(lo, hi)
	if a.is512 {
		k := K()
		VPCMPEQD(a.c("iota"), yv, k)
		VMOVAPS(gyv, k, g)
	} else {
		eq := a.v()
		VPCMPEQD(a.c("iota"), yv, eq)
		VBLENDVPS(eq, gyv, g, g)
	}
	c.store(g, grad)
	Label(lNoG)
}
