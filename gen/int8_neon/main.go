// Command int8_neon generates the NEON kernels of package kernels' int8
// inference path (kernels/int8_arm64.go is the Go side): the per-row
// uint8 quantization and the int8 product with its float32 epilogue, in
// two variants, one for cores with the dot-product extension (SDOT) and
// one for cores without it (widening multiply-accumulates). The integer
// sums are exact and the float32 steps are the reference's, one IEEE
// operation each, never fused, so every kernel gives the bits of
// kernels/ref_int8.go.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	nl "github.com/simdmlp/simdmlp/gen/internal/neon"
	"github.com/simdmlp/simdmlp/gen/neon"
)

type V = neon.V

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	g := &gen{f: &f}
	g.quantize()
	g.dense(true)
	g.dense(false)
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}

type gen struct{ f *neon.File }

func (g *gen) w(w neon.Word) { g.f.W(w) }

// quantize emits QuantizeRowsU8NEON. Per row: the minimum and maximum
// with 0 (vector FMIN/FMAX from zeroed registers, so the tail's zeroed
// lanes change nothing, then FMINV/FMAXV), the scale, its inverse and the
// zero point in scalar registers exactly as the reference computes them,
// then the codes 16 at a time (FCVTNS rounds to nearest even and
// saturates as Go's float-to-int32 conversion does on arm64; SQXTN then
// SQXTUN is the clamp to [0, 255]), then 4 at a time, then the last k%4
// lane by lane, and the row's padding cleared.
func (g *gen) quantize() {
	f := g.f
	f.Text(&neon.Func{Name: "QuantizeRowsU8NEON",
		Sig: "func(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int)",
		Doc: []string{
			"QuantizeRowsU8NEON is kernels.refQuantizeRowsU8, bit for bit: m rows of k",
			"float32s (leading dimension ldx) to uint8 codes (leading dimension ldq ≥ k,",
			"the codes from k to ldq−1 cleared) with a scale and a zero point per row;",
			"a row holding a NaN or ±Inf gets scale NaN, zero point 0 and no codes.",
			"It reads exactly the rows' k values and writes exactly m rows of ldq codes",
			"and m scales and zero points; m, k ≥ 1 and the lengths are checked by",
			"kernels.QuantizeRowsU8. Assembly because Go does not vectorise the",
			"min/max and the rounding conversions.",
		}})
	f.I("MOVD %s, R0", f.Arg("q_base"))
	f.I("MOVD %s, R1", f.Arg("ldq"))
	f.I("MOVD %s, R2", f.Arg("scale_base"))
	f.I("MOVD %s, R3", f.Arg("zero_base"))
	f.I("MOVD %s, R4", f.Arg("x_base"))
	f.I("MOVD %s, R5", f.Arg("ldx"))
	f.I("LSL $2, R5")
	f.I("MOVD %s, R6", f.Arg("m"))
	f.I("MOVD %s, R7", f.Arg("k"))
	// 255 as a float32, the divisor of the scale.
	f.I("MOVW $0x437f0000, R9")
	f.I("FMOVS R9, F3")

	f.Label("row")
	// The minimum and maximum, from 0.
	nl.Zero(f, 0)
	nl.Zero(f, 1)
	f.I("MOVD R4, R8")
	f.I("LSR $4, R7, R10")
	f.I("CBZ R10, %s", f.L("mm4"))
	f.Label("mm16")
	f.I("VLD1.P 64(R8), [V16.S4, V17.S4, V18.S4, V19.S4]")
	for v := V(16); v < 20; v++ {
		g.w(neon.FMIN(0, 0, v))
		g.w(neon.FMAX(1, 1, v))
	}
	f.I("SUBS $1, R10")
	f.I("BNE %s", f.L("mm16"))
	f.Label("mm4")
	f.I("AND $15, R7, R10")
	f.I("LSR $2, R10")
	f.I("CBZ R10, %s", f.L("mmtail"))
	f.Label("mm4loop")
	f.I("VLD1.P 16(R8), [V16.S4]")
	g.w(neon.FMIN(0, 0, 16))
	g.w(neon.FMAX(1, 1, 16))
	f.I("SUBS $1, R10")
	f.I("BNE %s", f.L("mm4loop"))
	f.Label("mmtail")
	f.I("AND $3, R7, R10")
	f.I("CBZ R10, %s", f.L("mmdone"))
	nl.Zero(f, 16)
	nl.Lanes(f, "mmlanes", 10, []nl.Stream{{Ptr: 8, Reg: 16}}, true)
	g.w(neon.FMIN(0, 0, 16))
	g.w(neon.FMAX(1, 1, 16))
	f.Label("mmdone")
	g.w(neon.FMINV(0, 0))
	g.w(neon.FMAXV(1, 1))
	// FMIN, FMAX and their reductions carry a NaN through, and with
	// lo ≤ 0 ≤ hi the sum lo + hi is finite exactly when both are: a row
	// holding a NaN or ±Inf gets scale NaN and zero point 0, no codes.
	f.I("FADDS F0, F1, F8")
	f.I("FABSS F8, F8")
	f.I("MOVW $0x7f800000, R9")
	f.I("FMOVS R9, F9")
	f.I("FCMPS F9, F8")
	f.I("BMI %s", f.L("finite"))
	f.I("MOVW $0x7fc00000, R9")
	f.I("MOVW R9, (R2)")
	f.I("MOVW ZR, (R3)")
	f.I("B %s", f.L("next"))
	f.Label("finite")

	// scale F2, inv F4, zero point R12; a row whose minimum and maximum
	// are equal is all zeros and has scale 1, zero point 0.
	f.I("FCMPS F0, F1")
	f.I("BEQ %s", f.L("flat"))
	f.I("FSUBS F0, F1, F2") // hi − lo
	f.I("FDIVS F3, F2, F2") // (hi − lo)/255
	// At least 2⁻¹²⁶, so that 1/scale stays finite (see QuantizeRowsU8).
	f.I("MOVW $0x00800000, R9")
	f.I("FMOVS R9, F6")
	f.I("FMAXS F6, F2, F2")
	f.I("FMOVS $1.0, F4")
	f.I("FDIVS F2, F4, F4") // 1/scale
	f.I("FNEGS F0, F5")
	f.I("FMULS F4, F5, F5") // −lo·inv
	// FRINTN then FCVTZS is FCVTNS: the value is already integral when
	// converted, and the conversion saturates (NaN to 0) as FCVTNS does.
	f.I("FRINTNS F5, F5")
	f.I("FCVTZSSW F5, R12")
	f.I("CMPW $0, R12")
	f.I("CSELW LT, ZR, R12, R12")
	f.I("MOVW $255, R13")
	f.I("CMPW R13, R12")
	f.I("CSELW GT, R13, R12, R12")
	f.I("B %s", f.L("have"))
	f.Label("flat")
	f.I("FMOVS $1.0, F2")
	f.I("FMOVS $1.0, F4")
	f.I("MOVW ZR, R12")
	f.Label("have")
	f.I("FMOVS F2, (R2)")
	f.I("MOVW R12, (R3)")
	f.I("VDUP V4.S[0], V6.S4")
	f.I("VDUP R12, V7.S4")

	// The codes.
	f.I("MOVD R4, R8")
	f.I("MOVD R0, R14")
	f.I("LSR $4, R7, R10")
	f.I("CBZ R10, %s", f.L("q4"))
	f.Label("q16")
	f.I("VLD1.P 64(R8), [V16.S4, V17.S4, V18.S4, V19.S4]")
	for v := V(16); v < 20; v++ {
		g.code(v)
	}
	g.w(neon.SQXTN(20, 16))
	g.w(neon.SQXTN2(20, 17))
	g.w(neon.SQXTN(21, 18))
	g.w(neon.SQXTN2(21, 19))
	g.w(neon.SQXTUN(22, 20))
	g.w(neon.SQXTUN2(22, 21))
	f.I("VST1.P [V22.B16], 16(R14)")
	f.I("SUBS $1, R10")
	f.I("BNE %s", f.L("q16"))
	f.Label("q4")
	f.I("AND $15, R7, R10")
	f.I("LSR $2, R10")
	f.I("CBZ R10, %s", f.L("qtail"))
	f.Label("q4loop")
	f.I("VLD1.P 16(R8), [V16.S4]")
	g.code(16)
	g.w(neon.SQXTN(20, 16))
	g.w(neon.SQXTUN(22, 20))
	f.I("VST1.P V22.S[0], 4(R14)")
	f.I("SUBS $1, R10")
	f.I("BNE %s", f.L("q4loop"))
	f.Label("qtail")
	f.I("AND $3, R7, R10")
	f.I("CBZ R10, %s", f.L("pad"))
	nl.Zero(f, 16)
	nl.Lanes(f, "qlanes", 10, []nl.Stream{{Ptr: 8, Reg: 16}}, true)
	g.code(16)
	g.w(neon.SQXTN(20, 16))
	g.w(neon.SQXTUN(22, 20))
	for lane := range 3 {
		if lane > 0 {
			f.I("CMP $%d, R10", lane+1)
			f.I("BLT %s", f.L("pad"))
		}
		f.I("VST1.P V22.B[%d], 1(R14)", lane)
	}

	// The padding codes k … ldq−1.
	f.Label("pad")
	f.I("SUBS R7, R1, R10")
	f.I("BEQ %s", f.L("next"))
	f.Label("padloop")
	f.I("MOVB.P ZR, 1(R14)")
	f.I("SUBS $1, R10")
	f.I("BNE %s", f.L("padloop"))

	f.Label("next")
	f.I("ADD R1, R0")
	f.I("ADD $4, R2")
	f.I("ADD $4, R3")
	f.I("ADD R5, R4")
	f.I("SUBS $1, R6")
	f.I("BNE %s", f.L("row"))
	f.I("RET")
}

// code turns the four float32s of v into int32 codes before the clamp:
// round(x·inv) + zero, with inv in V6 and zero in V7.
func (g *gen) code(v V) {
	g.w(neon.FMUL(v, v, 6))
	g.w(neon.FCVTNS(v, v))
	g.f.I("VADD V7.S4, V%d.S4, V%d.S4", v, v)
}

// The product's general registers.
const (
	rA      = 0  // the row block's codes: a + i·lda
	rLda    = 1  // lda, bytes
	rScale  = 2  // &scale[i]
	rZero   = 3  // &zero[i]
	rPacked = 4  // the packed weights
	rColSum = 5  // colSum
	rWScale = 6  // the weights' scales
	rBias   = 7  // bias
	rY      = 8  // y's row i
	rLdy    = 9  // ldy, bytes
	rM      = 10 // rows left
	rN      = 11 // n, the units
	rStride = 12 // np·4: the bytes of one group of the packed weights
	rKg     = 13 // groups of 4 inputs
	rJ      = 14 // the column block's first column
	rW      = 15 // the weights' pointer in the k loop
	rCnt    = 21 // loop counter
	rT      = 22 // scratch
	// In the epilogue: colSum, scales, bias and y from the block's column.
	rEC, rES, rEB, rEY = 23, 24, 25, 26
)

// rowPtr are the general registers of the rows' codes in the k loop (R18
// is the platform register).
var rowPtr = [4]int{16, 17, 19, 20}

// The product's vector registers: the sums from V0, one register of codes
// per row from V16 (V17 the widened codes of the one-row widening
// kernel, V18 its scratch), the weights from V20, 0x80 bytes in V31 (the
// SDOT kernel's flip) and, in the epilogue, V24 the zero-point
// correction, V25 the row's scale, V26-V28 colSum, the weights' scales
// and bias, V29-V30 scratch.
const (
	vCodes            V = 16
	vWide, vWideTmp   V = 17, 18
	vW                V = 20
	vWide16           V = 24 // the widening kernel's 8 registers of int16 weights
	vFlip             V = 31
	vCorr, vRowScale  V = 24, 25
	vCS, vWS, vBias   V = 26, 27, 28
	vOut, vTmp        V = 29, 30
	denseSig            = "func(a []uint8, lda int, scale []float32, zero []int32, packed []int8, colSum []int32, wscale, bias, y []float32, ldy, m, n, kg int)"
	sdotRows, wideRow   = 4, 1
)

// dense emits Int8DenseSDOTNEON (sdot) or Int8DenseWideNEON: for blocks
// of rows (4 and then 1 with SDOT, 1 when widening) and blocks of 16
// columns (one 64-byte row of a group of the packed weights), the exact
// int32 sums over the k loop, then the epilogue of each row's 4 quads of
// columns, the last one cut to the valid columns.
//
// SDOT multiplies signed bytes: the codes' top bit is flipped (a XOR 0x80
// is a−128 as an int8), so the sum is Σ(a−128)·w = acc − 128·colSum, and
// the epilogue's correction is (128 − zero)·colSum instead of
// −zero·colSum (all exact in wrapping int32, and the true value fits).
//
// Without SDOT each code group is widened to int16 and duplicated
// ([a0 a1 a2 a3 a0 a1 a2 a3]); each 16-byte row of weights (4 columns ×
// 4 inputs) is widened to two registers of 2 columns, and SMLAL/SMLAL2
// add the 4 exact products per column into the 4 lanes of that column's
// own sum register, which pairwise additions (ADDP) fold after the k
// loop. |a·w| ≤ 255·127 fits int16's multiplicand range; the products
// and sums are int32.
func (g *gen) dense(sdot bool) {
	f := g.f
	name, how := "Int8DenseWideNEON", "widening multiply-accumulates (SXTL, SMLAL/SMLAL2), for every arm64 core"
	if sdot {
		name, how = "Int8DenseSDOTNEON", "the dot-product extension's SDOT: only for cores with asimddp"
	}
	f.Text(&neon.Func{Name: name, Sig: denseSig, Doc: []string{
		fmt.Sprintf("%s is kernels.refInt8Dense, bit for bit, with", name),
		how + ".",
		"It multiplies m rows of uint8 codes (a, leading dimension lda; kg·4 codes",
		"read from each row, those past the weights' inputs meeting zero weights)",
		"by the packed int8 weights (kg groups of np = roundUp(n, 16) columns of",
		"4 bytes) and writes the n valid columns of m rows of y (ldy ≥ n), nothing",
		"else. The lengths are checked by kernels/int8_arm64.go; m, n, kg ≥ 1.",
		"Assembly because Go has no vector integer dot products.",
	}})
	f.I("MOVD %s, R%d", f.Arg("a_base"), rA)
	f.I("MOVD %s, R%d", f.Arg("lda"), rLda)
	f.I("MOVD %s, R%d", f.Arg("scale_base"), rScale)
	f.I("MOVD %s, R%d", f.Arg("zero_base"), rZero)
	f.I("MOVD %s, R%d", f.Arg("packed_base"), rPacked)
	f.I("MOVD %s, R%d", f.Arg("colSum_base"), rColSum)
	f.I("MOVD %s, R%d", f.Arg("wscale_base"), rWScale)
	f.I("MOVD %s, R%d", f.Arg("bias_base"), rBias)
	f.I("MOVD %s, R%d", f.Arg("y_base"), rY)
	f.I("MOVD %s, R%d", f.Arg("ldy"), rLdy)
	f.I("LSL $2, R%d", rLdy)
	f.I("MOVD %s, R%d", f.Arg("m"), rM)
	f.I("MOVD %s, R%d", f.Arg("n"), rN)
	f.I("MOVD %s, R%d", f.Arg("kg"), rKg)
	// np·4 = roundUp(n, 16)·4.
	f.I("ADD $15, R%d, R%d", rN, rStride)
	f.I("AND $~15, R%d", rStride)
	f.I("LSL $2, R%d", rStride)
	if sdot {
		f.I("VMOVI $128, V%d.B16", vFlip)
	}
	blocks := []int{wideRow}
	if sdot {
		blocks = []int{sdotRows, 1}
	}
	for bi, rows := range blocks {
		lbl := fmt.Sprintf("rows%d", rows)
		next := "done"
		if bi+1 < len(blocks) {
			next = fmt.Sprintf("rows%d", blocks[bi+1])
		}
		f.Label(lbl)
		f.I("CMP $%d, R%d", rows, rM)
		f.I("BLT %s", f.L(next))
		g.denseBlock(sdot, rows)
		// The next rows.
		for range rows {
			f.I("ADD R%d, R%d", rLda, rA)
			f.I("ADD R%d, R%d", rLdy, rY)
		}
		f.I("ADD $%d, R%d", 4*rows, rScale)
		f.I("ADD $%d, R%d", 4*rows, rZero)
		f.I("SUB $%d, R%d", rows, rM)
		f.I("B %s", f.L(lbl))
	}
	f.Label("done")
	f.I("RET")
}

// denseBlock emits the column loop of one block of rows.
func (g *gen) denseBlock(sdot bool, rows int) {
	f := g.f
	p := fmt.Sprintf("r%d", rows)
	// acc(r, c) is row r's sum register of the block's quad c (columns
	// 4c…4c+3); the widening kernel keeps 4 registers per quad, one per
	// column, until the fold.
	acc := func(r, c int) V { return V(r*4 + c) }
	nacc := rows * 4
	if !sdot {
		acc = func(_, c int) V { return V(c * 4) }
		nacc = 16
	}
	f.I("MOVD ZR, R%d", rJ)
	f.Label(p + "col")
	for v := range nacc {
		nl.Zero(f, V(v))
	}
	f.I("MOVD R%d, R%d", rA, rowPtr[0])
	for r := 1; r < rows; r++ {
		f.I("ADD R%d, R%d, R%d", rLda, rowPtr[r-1], rowPtr[r])
	}
	f.I("ADD R%d<<2, R%d, R%d", rJ, rPacked, rW)
	f.I("LSR $2, R%d, R%d", rKg, rCnt)
	f.I("CBZ R%d, %s", rCnt, f.L(p+"ktail"))
	f.Label(p + "k")
	for r := range rows {
		f.I("VLD1.P 16(R%d), [V%d.B16]", rowPtr[r], vCodes+V(r))
	}
	g.flip(sdot, rows)
	for l := range 4 {
		g.group(sdot, rows, l)
	}
	f.I("SUBS $1, R%d", rCnt)
	f.I("BNE %s", f.L(p+"k"))

	// The last kg%4 groups: their codes loaded 4 bytes at a time into
	// zeroed registers (never past kg·4 codes of a row).
	f.Label(p + "ktail")
	f.I("AND $3, R%d, R%d", rKg, rCnt)
	f.I("CBZ R%d, %s", rCnt, f.L(p+"epi"))
	var ss []nl.Stream
	for r := range rows {
		nl.Zero(f, vCodes+V(r))
		ss = append(ss, nl.Stream{Ptr: rowPtr[r], Reg: vCodes + V(r)})
	}
	nl.Lanes(f, p+"klanes", rCnt, ss, true)
	g.flip(sdot, rows)
	for l := range 3 {
		if l > 0 {
			f.I("CMP $%d, R%d", l+1, rCnt)
			f.I("BLT %s", f.L(p+"epi"))
		}
		g.group(sdot, rows, l)
	}

	f.Label(p + "epi")
	if !sdot {
		// Fold each column's 4 partial sums: quad c ends in V(4c).
		for c := range 4 {
			b := c * 4
			f.I("VADDP V%d.S4, V%d.S4, V%d.S4", b+1, b, b)
			f.I("VADDP V%d.S4, V%d.S4, V%d.S4", b+3, b+2, b+2)
			f.I("VADDP V%d.S4, V%d.S4, V%d.S4", b+2, b, b)
		}
	}
	for r := range rows {
		g.epilogue(sdot, fmt.Sprintf("%se%d", p, r), r, func(c int) V { return acc(r, c) })
	}
	f.I("ADD $16, R%d", rJ)
	f.I("CMP R%d, R%d", rN, rJ)
	f.I("BLT %s", f.L(p+"col"))
}

// flip turns the SDOT kernel's codes into signed bytes, a−128.
func (g *gen) flip(sdot bool, rows int) {
	if !sdot {
		return
	}
	for r := range rows {
		g.f.I("VEOR V%d.B16, V%d.B16, V%d.B16", vFlip, vCodes+V(r), vCodes+V(r))
	}
}

// group emits one group of 4 inputs (element l of the codes' registers)
// against the block's 16 columns, and moves the weights' pointer to the
// next group.
func (g *gen) group(sdot bool, rows, l int) {
	f := g.f
	f.I("VLD1 (R%d), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rW, vW, vW+1, vW+2, vW+3)
	f.I("ADD R%d, R%d", rStride, rW)
	if sdot {
		for r := range rows {
			for c := range 4 {
				g.w(neon.SDOTElem(V(r*4+c), vW+V(c), vCodes+V(r), l))
			}
		}
		return
	}
	// [a0 a1 a2 a3] twice, as int16 (codes ≤ 255 are non-negative).
	f.I("VDUP V%d.S[%d], V%d.S4", vCodes, l, vWideTmp)
	f.I("VUXTL V%d.B8, V%d.H8", vWideTmp, vWide)
	for c := range 4 {
		g.w(neon.SXTL(vWide16+V(2*c), vW+V(c)))    // columns 4c, 4c+1
		g.w(neon.SXTL2(vWide16+V(2*c+1), vW+V(c))) // columns 4c+2, 4c+3
	}
	for c := range 4 {
		lo, hi := vWide16+V(2*c), vWide16+V(2*c+1)
		g.w(neon.SMLAL(V(4*c), lo, vWide))
		g.w(neon.SMLAL2(V(4*c+1), lo, vWide))
		g.w(neon.SMLAL(V(4*c+2), hi, vWide))
		g.w(neon.SMLAL2(V(4*c+3), hi, vWide))
	}
}

// epilogue writes row r of the block: for each quad of columns,
// t = float32(sum + corr·colSum), c = scale·wscale, y = t·c, y += bias,
// where corr is 128 − zero (SDOT) or −zero; the columns past n are
// neither read (colSum, scales, bias) nor written.
func (g *gen) epilogue(sdot bool, p string, r int, acc func(c int) V) {
	f := g.f
	f.I("MOVW %d(R%d), R%d", 4*r, rZero, rT)
	f.I("NEG R%d, R%d", rT, rT)
	if sdot {
		f.I("ADD $128, R%d", rT)
	}
	f.I("VDUP R%d, V%d.S4", rT, vCorr)
	f.I("FMOVS %d(R%d), F%d", 4*r, rScale, vRowScale)
	f.I("VDUP V%d.S[0], V%d.S4", vRowScale, vRowScale)
	f.I("ADD R%d<<2, R%d, R%d", rJ, rColSum, rEC)
	f.I("ADD R%d<<2, R%d, R%d", rJ, rWScale, rES)
	f.I("ADD R%d<<2, R%d, R%d", rJ, rBias, rEB)
	f.I("ADD R%d<<2, R%d, R%d", rJ, rY, rEY)
	for range r {
		f.I("ADD R%d, R%d", rLdy, rEY)
	}
	f.I("SUB R%d, R%d, R%d", rJ, rN, rCnt) // the columns left in the row
	in := []nl.Stream{{Ptr: rEC, Reg: vCS}, {Ptr: rES, Reg: vWS}, {Ptr: rEB, Reg: vBias}}
	for c := range 4 {
		part := fmt.Sprintf("%sq%d", p, c)
		f.I("CMP $4, R%d", rCnt)
		f.I("BLT %s", f.L(part))
		for _, s := range in {
			f.I("VLD1.P 16(R%d), [V%d.S4]", s.Ptr, s.Reg)
		}
		g.finish(acc(c))
		f.I("VST1.P [V%d.S4], 16(R%d)", vOut, rEY)
		if c < 3 {
			f.I("SUBS $4, R%d", rCnt)
			f.I("BEQ %s", f.L(p+"done"))
		}
	}
	f.I("B %s", f.L(p+"done"))
	for c := range 4 {
		part := fmt.Sprintf("%sq%d", p, c)
		f.Label(part)
		for _, s := range in {
			nl.Zero(f, s.Reg)
		}
		nl.Lanes(f, part+"in", rCnt, in, true)
		g.finish(acc(c))
		nl.Lanes(f, part+"out", rCnt, []nl.Stream{{Ptr: rEY, Reg: vOut}}, false)
		f.I("B %s", f.L(p+"done"))
	}
	f.Label(p + "done")
}

// finish computes one quad of outputs into vOut from its sums, in the
// reference's order and roundings.
func (g *gen) finish(acc V) {
	g.w(neon.MUL(vTmp, vCorr, vCS))
	g.f.I("VADD V%d.S4, V%d.S4, V%d.S4", acc, vTmp, vTmp)
	g.w(neon.SCVTF(vTmp, vTmp))          // t
	g.w(neon.FMUL(vOut, vRowScale, vWS)) // c = scale·wscale
	g.w(neon.FMUL(vTmp, vTmp, vOut))     // t·c, rounded
	g.w(neon.FADD(vOut, vTmp, vBias))    // + bias, rounded
}
