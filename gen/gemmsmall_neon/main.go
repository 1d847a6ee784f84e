// Command gemmsmall_neon generates the NEON unpacked small-matrix GEMM
// kernels of package kernels (kernels/asm/gemmsmall_neon_arm64.s), the
// arm64 counterpart of gen/internal/avx/small.go: C = alpha·op(A)·B +
// beta·C with A and B read where they lie, no packing, and an epilogue
// that can add a bias and apply ReLU (kernels.DenseForward).
//
// Panels are up to 4 rows. Each k step loads the panel's elements of
// op(A)'s column p (one scalar per row for A, whose column is strided; a
// single contiguous load for Aᵀ) and row p of B, nv vectors, then issues
// mr·nv by-element FMLAs. Shorter panels take wider chunks, so that at
// least 12 independent sums cover the FMA latency of cores with two FMA
// pipes: 4 rows × 5 vectors (20 sums, 29 of the 32 registers), 3 × 6,
// 2 × 8, and 1 × 12 (a single prediction: 48 columns a pass). A k step
// of the 4-row panel issues 9 loads (4 scalar, 5 vector; 5 for Aᵀ) for
// 20 FMLAs, 80 flops per 96 bytes; cores that retire two loads and two
// FMLAs a cycle are FMLA-bound.
//
// Column tails need no masked loads, which NEON lacks: the last vector of
// a row that holds only r < 4 live columns is loaded lane by lane, lane q
// from column min(q, r-1), so nothing past the row is read. Lanes r-1..3
// then hold the same inputs (of B, C and the bias) and so the same sum,
// and the vector is stored lane by lane at the same columns: column r-1
// is written up to 4-r+1 times with one value, and nothing past it. Every sum is one chain of k FMLAs
// in the order of p, whatever the panel height or chunk width, so every
// row of C comes out with the same bits however it was computed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/gen/neon"
)

// maxMR is the tallest panel; nvs[mr-1] the vectors per full chunk.
const maxMR = 4

var nvs = []int{12, 8, 6, 5}

// Epilogue flags; the Go glue (kernels/gemmsmall.go) uses the same values.
const (
	flagAlpha = 0 // bit numbers, for TBZ
	flagBeta  = 1
	flagBias  = 2
	flagRelu  = 3
)

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	for _, trans := range []bool{false, true} {
		for mr := 1; mr <= maxMR; mr++ {
			g := &smallFunc{f: &f, trans: trans, mr: mr, nv: nvs[mr-1]}
			g.emit()
		}
	}
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}

type smallFunc struct {
	f     *neon.File
	trans bool // A is stored transposed (k×m)
	mr    int
	nv    int // vectors per full column chunk
	label int
}

// General registers. R0 the panel's A, R1 the panel's C row, R2 rows
// left, R3 the chunk's first column, R4 columns left, R5 lda, R6 ldb and
// R7 ldc in bytes, R8 k, R9 b, R10 flags; in a chunk R11 B's row p, R12 a
// load pointer, R13 the k count, R14–R17 A pointers (one per row for A,
// R14 alone for Aᵀ), R19 a C row, R20–R22 the byte offsets of lanes 1–3
// of a partial vector, R23 a temporary, R24 a C or bias pointer.
const (
	rOff1, rOff2, rOff3 = "R20", "R21", "R22"
	rTmp                = "R23"
)

// Vector registers: the sums acc(i, v) from V0, then the A values, then
// the B vectors; V29 alpha, V30 beta and later zero, V31 a mask.
func (g *smallFunc) acc(i, v int) neon.V { return neon.V(i*g.nv + v) }
func (g *smallFunc) va(i int) neon.V     { return neon.V(g.mr*g.nv + i) }
func (g *smallFunc) vb(v int) neon.V     { return neon.V(g.mr*g.nv + g.aRegs() + v) }

// aRegs is the number of registers the A values of a k step take.
func (g *smallFunc) aRegs() int {
	if g.trans {
		return 1
	}
	return g.mr
}

const valpha, vbeta, vzero, vmask neon.V = 29, 30, 30, 31

func (g *smallFunc) newLabel(what string) string {
	g.label++
	return fmt.Sprintf("%s%d", what, g.label)
}

func (g *smallFunc) emit() {
	f := g.f
	if last := g.vb(g.nv - 1); last >= valpha {
		panic(fmt.Sprintf("mr=%d nv=%d needs V%d, which the epilogue uses", g.mr, g.nv, last))
	}
	kind, aShape := "NN", "A (m×k, element (i,p) at a[i*lda+p])"
	if g.trans {
		kind, aShape = "TN", "Aᵀ (A stored k×m, element (i,p) of op(A) at a[p*lda+i])"
	}
	name := fmt.Sprintf("SgemmSmall%s%dNEON", kind, g.mr)
	f.Text(&neon.Func{
		Name: name,
		Doc: []string{
			fmt.Sprintf("%s computes C = alpha·op(A)·B + beta·C for op(A) = %s,", name, aShape),
			"B k×n row-major with leading dimension ldb and C m×n with leading dimension ldc,",
			"reading A and B in place (no packing). Go reference: Sgemm on the generic level",
			"(genericGemm, kernels/ref_gemm.go). flags: 1 scale by alpha, 2 add beta·C (else C is",
			"only written), 4 add bias[j] to column j, 8 apply max(x, 0) last (kernels.DenseForward).",
			fmt.Sprintf("Assembly because the by-element FMLA loop over a %d-row panel and %d vectors of B", g.mr, g.nv),
			"needs vector FMA, which the Go compiler does not emit.",
			fmt.Sprintf("Preconditions: m ≥ 1 and a multiple of %d, n ≥ 1, k ≥ 1, all of A, B, C", g.mr),
			"(and bias when flag 4 is set) in bounds; nothing outside C's m×n region is touched.",
		},
		Sig: "func(m, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)",
	})
	f.I("MOVD %s, R0", f.Arg("a"))
	f.I("MOVD %s, R1", f.Arg("c"))
	f.I("MOVD %s, R2", f.Arg("m"))
	f.I("MOVD %s, R5", f.Arg("lda"))
	f.I("LSL $2, R5")
	f.I("MOVD %s, R6", f.Arg("ldb"))
	f.I("LSL $2, R6")
	f.I("MOVD %s, R7", f.Arg("ldc"))
	f.I("LSL $2, R7")
	f.I("MOVD %s, R8", f.Arg("k"))
	f.I("MOVD %s, R9", f.Arg("b"))
	f.I("MOVD %s, R10", f.Arg("flags"))

	f.Label("panel")
	f.I("MOVD ZR, R3")
	f.Label("col")
	f.I("MOVD %s, R4", f.Arg("n"))
	f.I("SUB R3, R4")
	full := 4 * g.nv
	f.I("CMP $%d, R4", full)
	f.I("BLT %s", f.L("tail"))
	g.block(g.nv, false)
	f.I("ADD $%d, R3", full)
	f.I("B %s", f.L("col"))

	// The tail: R4 in 0..full-1 columns, q = R4/4 whole vectors and r =
	// R4%4 columns of a partial one. Each (vectors, partial) pair has its
	// own block.
	f.Label("tail")
	f.I("CBZ R4, %s", f.L("next"))
	f.I("AND $3, R4, %s", rTmp)
	f.I("LSR $2, R4")
	f.I("CBNZ %s, %s", rTmp, f.L("partial"))
	for q := 1; q < g.nv; q++ {
		f.I("CMP $%d, R4", q)
		f.I("BEQ %s", f.L(fmt.Sprintf("whole%d", q)))
	}
	f.I("B %s", f.L("next")) // unreachable: R4 < nv
	for q := 1; q < g.nv; q++ {
		f.Label(fmt.Sprintf("whole%d", q))
		g.block(q, false)
		f.I("B %s", f.L("next"))
	}
	f.Label("partial")
	// Lane q of the partial vector is column min(q, r-1): byte offsets
	// 4·min(1, r-1), 4·min(2, r-1) and 4·(r-1).
	f.I("SUB $1, %s", rTmp)
	f.I("LSL $2, %s, %s", rTmp, rOff3)
	f.I("MOVD $4, %s", rTmp)
	f.I("CMP %s, %s", rTmp, rOff3)
	f.I("CSEL LT, %s, %s, %s", rOff3, rTmp, rOff1)
	f.I("MOVD $8, %s", rTmp)
	f.I("CMP %s, %s", rTmp, rOff3)
	f.I("CSEL LT, %s, %s, %s", rOff3, rTmp, rOff2)
	for q := 0; q < g.nv; q++ {
		f.I("CMP $%d, R4", q)
		f.I("BEQ %s", f.L(fmt.Sprintf("part%d", q+1)))
	}
	f.I("B %s", f.L("next")) // unreachable
	for nv := 1; nv <= g.nv; nv++ {
		f.Label(fmt.Sprintf("part%d", nv))
		g.block(nv, true)
		f.I("B %s", f.L("next"))
	}

	f.Label("next")
	if g.trans {
		f.I("ADD $%d, R0", 4*g.mr)
	} else {
		for range g.mr {
			f.I("ADD R5, R0")
		}
	}
	for range g.mr {
		f.I("ADD R7, R1")
	}
	f.I("SUBS $%d, R2", g.mr)
	f.I("BGT %s", f.L("panel"))
	f.I("RET")
}

// loadVecs loads count vectors from the address in ptr into consecutive
// registers from first, four at a time; with partial the last one holds
// only the live lanes (see the package comment). ptr is advanced when
// more than one load is needed.
func (g *smallFunc) loadVecs(ptr string, first neon.V, count int, partial bool) {
	f := g.f
	whole := count
	if partial {
		whole--
	}
	for v := 0; v < whole; v += 4 {
		nreg := min(4, whole-v)
		regs := make([]string, nreg)
		for i := range regs {
			regs[i] = fmt.Sprintf("V%d.S4", first+neon.V(v+i))
		}
		if v+nreg < whole || partial {
			f.I("VLD1.P %d(%s), [%s]", 16*nreg, ptr, strings.Join(regs, ", "))
		} else {
			f.I("VLD1 (%s), [%s]", ptr, strings.Join(regs, ", "))
		}
	}
	if partial {
		d := first + neon.V(whole)
		// FMOVS clears lanes 1-3, which the next loads fill.
		f.I("FMOVS (%s), F%d", ptr, d)
		for q, off := range []string{rOff1, rOff2, rOff3} {
			f.I("MOVWU (%s)(%s), %s", ptr, off, rTmp)
			f.I("VMOV %s, V%d.S[%d]", rTmp, d, q+1)
		}
	}
}

// storeVecs stores count vectors from consecutive registers from first
// to the address in ptr, the last one lane by lane when partial (lane q
// at column min(q, r-1); lanes past r-1 repeat its value).
func (g *smallFunc) storeVecs(ptr string, first neon.V, count int, partial bool) {
	f := g.f
	whole := count
	if partial {
		whole--
	}
	for v := 0; v < whole; v += 4 {
		nreg := min(4, whole-v)
		regs := make([]string, nreg)
		for i := range regs {
			regs[i] = fmt.Sprintf("V%d.S4", first+neon.V(v+i))
		}
		if v+nreg < whole || partial {
			f.I("VST1.P [%s], %d(%s)", strings.Join(regs, ", "), 16*nreg, ptr)
		} else {
			f.I("VST1 [%s], (%s)", strings.Join(regs, ", "), ptr)
		}
	}
	if partial {
		s := first + neon.V(whole)
		offs := []string{rOff1, rOff2, rOff3}
		for q := 3; q >= 1; q-- {
			f.I("VMOV V%d.S[%d], %s", s, q, rTmp)
			f.I("MOVW %s, (%s)(%s)", rTmp, ptr, offs[q-1])
		}
		f.I("FMOVS F%d, (%s)", s, ptr)
	}
}

// block computes the mr×nv-vector tile of C at column R3 of the panel
// over the whole k loop, then applies the epilogue and stores it; with
// partial its last vector holds the r < 4 live columns R20–R22 describe.
func (g *smallFunc) block(nv int, partial bool) {
	f := g.f
	f.Comment("%d×%d-vector tile, partial last vector: %v", g.mr, nv, partial)
	for i := range g.mr {
		for v := range nv {
			a := g.acc(i, v)
			f.I("VEOR V%d.B16, V%d.B16, V%d.B16", a, a, a)
		}
	}
	f.I("ADD R3<<2, R9, R11")
	f.I("MOVD R0, R14")
	if !g.trans {
		for i := 1; i < g.mr; i++ {
			f.I("ADD R5, R%d, R%d", 13+i, 14+i)
		}
	}
	f.I("MOVD R8, R13")

	loop := g.newLabel("k")
	f.Label(loop)
	// op(A)'s column p for the panel's rows.
	if g.trans {
		a := g.va(0)
		switch g.mr {
		case 1:
			f.I("FMOVS (R14), F%d", a)
		case 2:
			f.I("FMOVD (R14), F%d", a)
		case 3:
			f.I("FMOVD (R14), F%d", a)
			f.I("MOVWU 8(R14), %s", rTmp)
			f.I("VMOV %s, V%d.S[2]", rTmp, a)
		case 4:
			f.I("VLD1 (R14), [V%d.S4]", a)
		}
		f.I("ADD R5, R14")
	} else {
		for i := range g.mr {
			f.I("FMOVS.P 4(R%d), F%d", 14+i, g.va(i))
		}
	}
	// Row p of B.
	ptr := "R11"
	if nv > 4 || partial {
		f.I("MOVD R11, R12")
		ptr = "R12"
	}
	g.loadVecs(ptr, g.vb(0), nv, partial)
	f.I("ADD R6, R11")
	for i := range g.mr {
		av, idx := g.va(i), 0
		if g.trans {
			av, idx = g.va(0), i
		}
		for v := range nv {
			f.W(neon.FMLAElem(g.acc(i, v), g.vb(v), av, idx))
		}
	}
	f.I("SUBS $1, R13")
	f.I("BNE %s", f.L(loop))

	g.epilogue(nv, partial)
}

// epilogue applies alpha, beta·C, bias and ReLU as the flags ask, each a
// pass over the whole tile behind one branch, in the order of the AVX
// kernels, then stores the tile.
func (g *smallFunc) epilogue(nv int, partial bool) {
	f := g.f
	skip := g.newLabel("noalpha")
	f.I("TBZ $%d, R10, %s", flagAlpha, f.L(skip))
	f.I("FMOVS %s, F%d", f.Arg("alpha"), valpha)
	f.I("VDUP V%d.S[0], V%d.S4", valpha, valpha)
	for i := range g.mr {
		for v := range nv {
			f.W(neon.FMUL(g.acc(i, v), g.acc(i, v), valpha))
		}
	}
	f.Label(skip)

	skip = g.newLabel("nobeta")
	f.I("TBZ $%d, R10, %s", flagBeta, f.L(skip))
	f.I("FMOVS %s, F%d", f.Arg("beta"), vbeta)
	f.I("VDUP V%d.S[0], V%d.S4", vbeta, vbeta)
	f.I("ADD R3<<2, R1, R19")
	for i := range g.mr {
		f.I("MOVD R19, R24")
		g.loadVecs("R24", g.vb(0), nv, partial)
		for v := range nv {
			f.W(neon.FMLA(g.acc(i, v), g.vb(v), vbeta))
		}
		if i < g.mr-1 {
			f.I("ADD R7, R19")
		}
	}
	f.Label(skip)

	skip = g.newLabel("nobias")
	f.I("TBZ $%d, R10, %s", flagBias, f.L(skip))
	f.I("MOVD %s, R24", f.Arg("bias"))
	f.I("ADD R3<<2, R24")
	g.loadVecs("R24", g.vb(0), nv, partial)
	for i := range g.mr {
		for v := range nv {
			f.W(neon.FADD(g.acc(i, v), g.acc(i, v), g.vb(v)))
		}
	}
	f.Label(skip)

	skip = g.newLabel("norelu")
	f.I("TBZ $%d, R10, %s", flagRelu, f.L(skip))
	f.I("VEOR V%d.B16, V%d.B16, V%d.B16", vzero, vzero, vzero)
	for i := range g.mr {
		for v := range nv {
			// Lanes where 0 > x become +0; −0 and NaN fail the test and are
			// kept, as the reference's relu32 keeps them.
			a := g.acc(i, v)
			f.W(neon.FCMGT(vmask, vzero, a))
			f.I("VBIT V%d.B16, V%d.B16, V%d.B16", vmask, vzero, a)
		}
	}
	f.Label(skip)

	f.I("ADD R3<<2, R1, R19")
	for i := range g.mr {
		f.I("MOVD R19, R24")
		g.storeVecs("R24", g.acc(i, 0), nv, partial)
		if i < g.mr-1 {
			f.I("ADD R7, R19")
		}
	}
}
