package avx

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The int8 inference kernels (kernels/int8.go): QuantizeRowsU8 and the
// int8 product with its float32 epilogue. Every float32 step is the one
// the Go reference (kernels/ref_int8.go) performs, in its order, never
// fused; the integer sums are exact, so their order is free and every
// variant gives the reference's bits.
//
// Vector registers are assigned by hand (vecs below), not by avo's
// allocator: the AVX-VNNI instruction is emitted as bytes (avo knows only
// its EVEX form), so the registers it names must be fixed when the bytes
// are written, and a hand count keeps the AVX2 functions inside Y0–Y15.

// Int8Level describes one ISA's int8 kernels.
type Int8Level struct {
	Suffix string // "AVX2" or "AVX512"
	Wide   bool   // ZMM with opmask tails; else YMM with scalar tails
}

// vecs hands out physical vector registers in order.
type vecs struct {
	wide bool
	next int
}

func (v *vecs) get() VecPhysical {
	regs := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	if v.wide {
		regs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	}
	if v.next >= len(regs) {
		panic("int8: out of vector registers")
	}
	r := regs[v.next]
	v.next++
	return r
}

func xmm(v VecPhysical) VecPhysical { return v.AsX().(VecPhysical) }

var int8Label int

func int8NewLabel(what string) string {
	int8Label++
	return fmt.Sprintf("i8%s%d", what, int8Label)
}

var int8Mask *Mem

// int8MaskTable is the 16-bit opmask with the low r bits set, r = 0..16,
// emitted once per file.
func int8MaskTable() Mem {
	if int8Mask == nil {
		t := GLOBL("int8mask", RODATA|NOPTR)
		for r := 0; r <= 16; r++ {
			DATA(2*r, U16(uint16((1<<r)-1)))
		}
		int8Mask = &t
	}
	return *int8Mask
}

// GenerateQuantize emits QuantizeRowsU8<Suffix>.
func (l Int8Level) GenerateQuantize() {
	var table Mem
	if l.Wide {
		table = int8MaskTable()
	}
	name := "QuantizeRowsU8" + l.Suffix
	TEXT(name, NOSPLIT, "func(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int)")
	Pragma("noescape")
	Doc(
		name+" quantizes m rows of x (k values, leading dimension ldx) to uint8 codes in q",
		"(leading dimension ldq ≥ k, codes k..ldq-1 set to 0) with a scale and a zero point per",
		"row. Go reference: refQuantizeRowsU8 (kernels/ref_int8.go), bit for bit: min/max pass,",
		"VDIVSS for the scale and its inverse, VCVTPS2DQ (ties to even under Go's MXCSR), then",
		"saturating packs to bytes. Assembly because the Go compiler does not vectorise it.",
		"A row holding a NaN or ±Inf (its largest |x| bits ≥ 0x7f800000, kept by an integer max",
		"beside the float min/max, whose NaN handling depends on operand order) gets scale NaN",
		"and zero point 0, its codes unwritten.",
		"Preconditions: m ≥ 1, k ≥ 1, all of x, q, scale and zero in bounds; nothing outside",
		"the m rows of q (k..ldq-1 included) and m values of scale and zero is written.",
	)
	w := 8
	if l.Wide {
		w = 16
	}
	v := &vecs{wide: l.Wide}
	vec := func() VecPhysical { return v.get() }
	qp := Load(Param("q").Base(), GP64())
	sp := Load(Param("scale").Base(), GP64())
	zp := Load(Param("zero").Base(), GP64())
	xp := Load(Param("x").Base(), GP64())
	m := Load(Param("m"), GP64())
	k := Load(Param("k"), GP64())

	vzero, vlo, vhi, vx, vinv, vzp, vt, vs, vi := vec(), vec(), vec(), vec(), vec(), vec(), vec(), vec(), vec()
	vabs, vbits, vu := vec(), vec(), vec()
	// A second set of minimum, maximum and bits for the unrolled loop's
	// odd vectors, so that the three chains advance two steps a cycle.
	vlo2, vhi2, vbits2 := vec(), vec(), vec()
	VPXOR(xmm(vzero), xmm(vzero), xmm(vzero))
	one, c255 := GP32(), GP32()
	absMask := GP32()
	MOVL(U32(0x7fffffff), absMask)
	VMOVD(absMask, xmm(vabs))
	if l.Wide {
		VPBROADCASTD(xmm(vabs), vabs)
	} else {
		VPBROADCASTD(xmm(vabs), vabs.AsY())
	}
	MOVL(U32(math.Float32bits(1)), one)
	MOVL(U32(math.Float32bits(255)), c255)

	row := int8NewLabel("qrow")
	Label(row)
	// Pass 1: lo = min(0, min x), hi = max(0, max x). Starting from zero
	// makes the reference's min(0, ·) and max(0, ·), and lets masked-off
	// tail lanes load as zeros.
	for _, r := range []VecPhysical{vlo, vhi, vbits, vlo2, vhi2, vbits2} {
		VMOVUPS(vzero, r)
	}
	// bits: the largest |x| as an unsigned integer, lane by lane; a NaN or
	// ±Inf is ≥ 0x7f800000 there.
	bits := func(x, acc VecPhysical) {
		VPAND(vabs, x, vu)
		VPMAXUD(vu, acc, acc)
	}
	if l.Wide {
		bits = func(x, acc VecPhysical) {
			VPANDD(vabs, x, vu)
			VPMAXUD(vu, acc, acc)
		}
	}
	j, rem := GP64(), GP64()
	XORQ(j, j)
	MOVQ(k, rem)
	// Four vectors a turn (two to each set), then one, then the tail;
	// rem = k − j throughout.
	mm4, mm, mmTail, mmDone := int8NewLabel("mm4"), int8NewLabel("mm"), int8NewLabel("mmtail"), int8NewLabel("mmdone")
	Label(mm4)
	CMPQ(rem, U32(4*w))
	JL(LabelRef(mm))
	for u := range 4 {
		VMOVUPS(Mem{Base: xp, Index: j, Scale: 4, Disp: 4 * w * u}, vx)
		if u%2 == 0 {
			VMINPS(vx, vlo, vlo)
			VMAXPS(vx, vhi, vhi)
			bits(vx, vbits)
		} else {
			VMINPS(vx, vlo2, vlo2)
			VMAXPS(vx, vhi2, vhi2)
			bits(vx, vbits2)
		}
	}
	ADDQ(U32(4*w), j)
	SUBQ(U32(4*w), rem)
	JMP(LabelRef(mm4))
	Label(mm)
	CMPQ(rem, U32(w))
	JL(LabelRef(mmTail))
	VMOVUPS(Mem{Base: xp, Index: j, Scale: 4}, vx)
	VMINPS(vx, vlo, vlo)
	VMAXPS(vx, vhi, vhi)
	bits(vx, vbits)
	ADDQ(U32(w), j)
	SUBQ(U32(w), rem)
	JMP(LabelRef(mm))
	Label(mmTail)
	VMINPS(vlo2, vlo, vlo)
	VMAXPS(vhi2, vhi, vhi)
	VPMAXUD(vbits2, vbits, vbits)
	lo, hi, t := xmm(vlo), xmm(vhi), xmm(vt)
	if l.Wide {
		kk := K()
		tbl := GP64()
		LEAQ(table, tbl)
		KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, kk)
		VMOVUPS_Z(Mem{Base: xp, Index: j, Scale: 4}, kk, vx)
		VMINPS(vx, vlo, vlo)
		VMAXPS(vx, vhi, vhi)
		bits(vx, vbits)
		VEXTRACTI64X4(U8(1), vbits, vu.AsY())
		VPMAXUD(vu.AsY(), vbits.AsY(), vbits.AsY())
		VEXTRACTF64X4(U8(1), vlo, vt.AsY())
		VMINPS(vt.AsY(), vlo.AsY(), vlo.AsY())
		VEXTRACTF64X4(U8(1), vhi, vt.AsY())
		VMAXPS(vt.AsY(), vhi.AsY(), vhi.AsY())
	}
	// Reduce the vectors to lane 0; the order of a min or max is free.
	VEXTRACTF128(U8(1), vlo.AsY(), t)
	VMINPS(t, lo, lo)
	VEXTRACTF128(U8(1), vhi.AsY(), t)
	VMAXPS(t, hi, hi)
	VMOVHLPS(lo, t, t)
	VMINPS(t, lo, lo)
	VMOVHLPS(hi, t, t)
	VMAXPS(t, hi, hi)
	VMOVSHDUP(lo, t)
	VMINSS(t, lo, lo)
	VMOVSHDUP(hi, t)
	VMAXSS(t, hi, hi)
	xb, xu := xmm(vbits), xmm(vu)
	VEXTRACTI128(U8(1), vbits.AsY(), xu)
	VPMAXUD(xu, xb, xb)
	VPSHUFD(U8(0x4E), xb, xu)
	VPMAXUD(xu, xb, xb)
	VPSHUFD(U8(0xB1), xb, xu)
	VPMAXUD(xu, xb, xb)
	if !l.Wide {
		// The last k mod 8 values, one at a time: nothing past the row
		// is read.
		sl := int8NewLabel("mmscalar")
		Label(sl)
		CMPQ(j, k)
		JGE(LabelRef(mmDone))
		VMOVSS(Mem{Base: xp, Index: j, Scale: 4}, t)
		VMINSS(t, lo, lo)
		VMAXSS(t, hi, hi)
		VPAND(xmm(vabs), t, xu)
		VPMAXUD(xu, xb, xb)
		INCQ(j)
		JMP(LabelRef(sl))
	}
	Label(mmDone)
	// A row that is not finite: scale NaN, zero point 0, no codes.
	nextRow := int8NewLabel("nextrow")
	maxBits, nan := GP32(), GP32()
	VMOVD(xb, maxBits)
	finiteRow := int8NewLabel("finite")
	CMPL(maxBits, U32(0x7f800000))
	JB(LabelRef(finiteRow))
	MOVL(U32(0x7fc00000), nan)
	MOVL(nan, Mem{Base: sp})
	MOVL(U32(0), Mem{Base: zp})
	JMP(LabelRef(nextRow))
	Label(finiteRow)

	// Scalars: s, inv and the zero point; a row of zeros (hi == lo, both
	// zero since lo ≤ 0 ≤ hi) keeps s = inv = 1 and zero point 0.
	s, inv, zpt := xmm(vs), xmm(vi), GP32()
	VMOVD(one, s)
	VMOVD(one, inv)
	XORL(zpt, zpt)
	constRow := int8NewLabel("const")
	VUCOMISS(hi, lo)
	JE(LabelRef(constRow))
	VSUBSS(lo, hi, s) // hi − lo, exact order of the reference
	VMOVD(c255, t)
	VDIVSS(t, s, s) // (hi − lo) / 255
	// At least 2⁻¹²⁶, so that 1/s stays finite (kernels.QuantizeRowsU8).
	floor := GP32()
	MOVL(U32(math.Float32bits(0x1p-126)), floor)
	VMOVD(floor, t)
	VMAXSS(t, s, s)
	VMOVD(one, inv)
	VDIVSS(s, inv, inv)       // 1 / s
	VSUBSS(lo, xmm(vzero), t) // −lo (the sign of a zero does not survive rounding)
	VMULSS(inv, t, t)
	VCVTSS2SI(t, zpt)
	cap255 := GP32()
	MOVL(U32(255), cap255)
	CMPL(zpt, U32(255))
	CMOVLGT(cap255, zpt)
	XORL(cap255, cap255)
	CMPL(zpt, U32(0))
	CMOVLLT(cap255, zpt)
	Label(constRow)
	VMOVSS(s, Mem{Base: sp})
	MOVL(zpt, Mem{Base: zp})

	// Pass 2: codes. After VCVTPS2DQ and the zero point a lane lies in
	// about [−256, 511]; the unsigned saturating packs clamp it to
	// [0, 255] exactly as clampU8 does.
	if l.Wide {
		VBROADCASTSS(inv, vinv)
	} else {
		VBROADCASTSS(inv, vinv.AsY())
	}
	VMOVD(zpt, xmm(vzp))
	VPBROADCASTD(xmm(vzp), vzp)
	XORQ(j, j)
	MOVQ(k, rem)
	code := func(disp int) {
		VMULPS(Mem{Base: xp, Index: j, Scale: 4, Disp: 4 * disp}, vinv, vx)
		VCVTPS2DQ(vx, vx)
		VPADDD(vzp, vx, vx)
		if l.Wide {
			VPMAXSD(vzero, vx, vx)
			VPMOVUSDB(vx, Mem{Base: qp, Index: j, Scale: 1, Disp: disp})
		} else {
			VEXTRACTI128(U8(1), vx, t)
			VPACKUSDW(t, xmm(vx), xmm(vx))
			VPACKUSWB(xmm(vx), xmm(vx), xmm(vx))
			VMOVQ(xmm(vx), Mem{Base: qp, Index: j, Scale: 1, Disp: disp})
		}
	}
	// Four vectors a turn: their codes packed together by two signed-to-
	// unsigned saturating packs (dwords to words, words to bytes, each
	// within 128-bit lanes), which leave the 4-code pieces interleaved —
	// lane i holds vector 0's piece i, then vector 1's, 2's and 3's —
	// and one VPERMD puts them in order. The same clamp as above, for
	// half the instructions: a lane lies in about [−256, 511], so the
	// first pack saturates only below 0 and the second only above 255.
	perm := GLOBL("int8packperm", RODATA|NOPTR)
	lanes := w / 4 // 128-bit lanes per vector
	for o := range w {
		DATA(4*o, U32(uint32(4*(o%lanes)+o/lanes)))
	}
	vp := vlo2 // free in pass 2 (pass 1 clears it again)
	if l.Wide {
		VMOVDQU32(perm, vp)
	} else {
		VMOVDQU(perm, vp)
	}
	code4 := func() {
		r := []VecPhysical{vx, vu, vhi2, vbits2}
		for u := range 4 {
			VMULPS(Mem{Base: xp, Index: j, Scale: 4, Disp: 4 * w * u}, vinv, r[u])
			VCVTPS2DQ(r[u], r[u])
			VPADDD(vzp, r[u], r[u])
		}
		VPACKUSDW(r[1], r[0], r[0])
		VPACKUSDW(r[3], r[2], r[2])
		VPACKUSWB(r[2], r[0], r[0])
		if l.Wide {
			VPERMD(r[0], vp, r[0])
			VMOVDQU32(r[0], Mem{Base: qp, Index: j, Scale: 1})
		} else {
			VPERMD(r[0], vp, r[0])
			VMOVDQU(r[0], Mem{Base: qp, Index: j, Scale: 1})
		}
	}
	cl4, cl, clTail, clDone := int8NewLabel("codes4"), int8NewLabel("codes"), int8NewLabel("codestail"), int8NewLabel("codesdone")
	Label(cl4)
	CMPQ(rem, U32(4*w))
	JL(LabelRef(cl))
	code4()
	ADDQ(U32(4*w), j)
	SUBQ(U32(4*w), rem)
	JMP(LabelRef(cl4))
	Label(cl)
	CMPQ(rem, U32(w))
	JL(LabelRef(clTail))
	code(0)
	ADDQ(U32(w), j)
	SUBQ(U32(w), rem)
	JMP(LabelRef(cl))
	Label(clTail)
	if l.Wide {
		kk := K()
		tbl := GP64()
		LEAQ(table, tbl)
		KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, kk)
		VMOVUPS_Z(Mem{Base: xp, Index: j, Scale: 4}, kk, vx)
		VMULPS(vinv, vx, vx)
		VCVTPS2DQ(vx, vx)
		VPADDD(vzp, vx, vx)
		VPMAXSD(vzero, vx, vx)
		VPMOVUSDB(vx, kk, Mem{Base: qp, Index: j, Scale: 1})
		ADDQ(rem, j)
	} else {
		sl := int8NewLabel("codesscalar")
		c, lim := GP32(), GP32()
		Label(sl)
		CMPQ(j, k)
		JGE(LabelRef(clDone))
		VMOVSS(Mem{Base: xp, Index: j, Scale: 4}, t)
		VMULSS(inv, t, t)
		VCVTSS2SI(t, c)
		ADDL(zpt, c)
		MOVL(U32(255), lim)
		CMPL(c, U32(255))
		CMOVLGT(lim, c)
		XORL(lim, lim)
		CMPL(c, U32(0))
		CMOVLLT(lim, c)
		MOVB(c.As8(), Mem{Base: qp, Index: j, Scale: 1})
		INCQ(j)
		JMP(LabelRef(sl))
	}
	Label(clDone)

	// Padding: codes k..ldq−1 are zero, 16 at a time then byte by byte.
	ldq := Load(Param("ldq"), GP64())
	pad, padByte, padDone := int8NewLabel("pad"), int8NewLabel("padbyte"), int8NewLabel("paddone")
	Label(pad)
	MOVQ(ldq, rem)
	SUBQ(j, rem)
	CMPQ(rem, U32(16))
	JL(LabelRef(padByte))
	VMOVDQU(xmm(vzero), Mem{Base: qp, Index: j, Scale: 1})
	ADDQ(U32(16), j)
	JMP(LabelRef(pad))
	Label(padByte)
	CMPQ(j, ldq)
	JGE(LabelRef(padDone))
	MOVB(U8(0), Mem{Base: qp, Index: j, Scale: 1})
	INCQ(j)
	JMP(LabelRef(padByte))
	Label(padDone)

	Label(nextRow)
	ldq = Load(Param("ldq"), GP64())
	ADDQ(ldq, qp)
	ldx := Load(Param("ldx"), GP64())
	LEAQ(Mem{Base: xp, Index: ldx, Scale: 4}, xp)
	ADDQ(U8(4), sp)
	ADDQ(U8(4), zp)
	DECQ(m)
	JNZ(LabelRef(row))
	End()
}

// vpdpbusdVEX emits the AVX-VNNI (VEX-encoded) VPDPBUSD acc += a·w on YMM
// registers, a's bytes unsigned and w's signed, as bytes: avo and Go's
// assembler know only the EVEX form, which needs AVX512-VL and VNNI.
// VEX.256.66.0F38.W0 50 /r: C4, then R̄X̄B̄ and map 0F38 (00010), then W=0,
// v̄v̄v̄v̄ = ¬a, L=1, pp=01, the opcode, and ModRM 11 acc w. make
// check-generate does not read these; TestAVXVNNIEncoding (gen) checks
// them with llvm-mc.
func vpdpbusdVEX(acc, a, w VecPhysical) {
	b := VPDPBUSDBytes(int(acc.PhysicalIndex()), int(a.PhysicalIndex()), int(w.PhysicalIndex()))
	Comment(fmt.Sprintf("{vex} vpdpbusd %%ymm%d, %%ymm%d, %%ymm%d (acc += a·w)", w.PhysicalIndex(), a.PhysicalIndex(), acc.PhysicalIndex()))
	for _, x := range b {
		Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(x)}})
	}
}

// VPDPBUSDBytes is the VEX encoding of vpdpbusd ymm(acc), ymm(a), ymm(w)
// (Intel operand order: destination, unsigned source, signed source).
func VPDPBUSDBytes(acc, a, w int) []byte {
	if acc < 0 || acc > 15 || a < 0 || a > 15 || w < 0 || w > 15 {
		panic(fmt.Sprintf("vpdpbusd: registers %d, %d, %d outside Y0–Y15", acc, a, w))
	}
	rbar := byte(^(acc>>3)&1) << 7
	xbar := byte(1) << 6
	bbar := byte(^(w>>3)&1) << 5
	b1 := rbar | xbar | bbar | 0x02
	b2 := byte((^a)&15)<<3 | 1<<2 | 0x01
	modrm := byte(0xC0 | (acc&7)<<3 | (w & 7))
	return []byte{0xC4, b1, b2, 0x50, modrm}
}
