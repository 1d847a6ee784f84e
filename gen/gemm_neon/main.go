// Command gemm_neon generates the NEON packed GEMM micro-kernel of package
// kernels (see kernels/gemm.go for the driver that packs the panels and
// kernels/gemm_arm64.go for the glue that checks their lengths).
package main

import (
	"flag"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/gen/neon"
)

const (
	mr = 8
	nr = 12
	nv = nr / 4 // B vectors per k step
	// unroll is how many k steps one iteration of the main k loop does.
	unroll = 4
)

// Vector registers: V0–V23 the 8×12 tile (row i, column vector v in
// acc(i, v)), V24–V25 the eight A values of a k step, V26–V28 the twelve B
// values, V29 alpha, V30 beta, V31 spare. After the k loop V24–V28 hold C
// rows during the store.
func acc(i, v int) neon.V { return neon.V(i*nv + v) }

const (
	va0, vb0      neon.V = 24, 26
	valpha, vbeta neon.V = 29, 30
	vc0           neon.V = 24
	scratchStride        = 4 * nr
)

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	gemm(&f)
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}

func gemm(f *neon.File) {
	const name = "SgemmKernel8x12NEON"
	f.Text(&neon.Func{
		Name: name,
		Doc: []string{
			name + " computes a packed block of C with NEON: for i < m, j < n,",
			"",
			"\tC[i*ldc+j] = alpha·Σ_{p<kc} A[i,p]·B[p,j] + beta·C[i*ldc+j]",
			"",
			"where a holds ceil(m/8) A panels and b ceil(n/12) B panels, packed",
			"k-major and zero-padded as kernels.packA and kernels.packB write them.",
			"It does what kernels.gemmTiles does with a Micro kernel, one 8×12",
			"tile at a time in 24 accumulators, each k step loading two A and three",
			"B vectors and issuing 24 by-element FMLAs. C is read only when",
			"beta != 0 and written only inside the m×n block: an edge tile goes",
			"through scratch (8×12 floats), whose live part is copied from and",
			"back to C. Assembly because Go has no FMA on vectors.",
			"",
			"Preconditions (checked by kernels/gemm_arm64.go): kc, m, n ≥ 1,",
			"ldc ≥ n, and the panels and C hold what the shapes need.",
		},
		Sig: "func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32, scratch *float32)",
	})
	// R0 kc, R1 rows left, R2 columns left, R3 A panel, R4 B panel, R5 C
	// column, R6 ldc in bytes, R7/R8 the k loop's A and B pointers, R9 k
	// count, R10 C tile, R11 row pointer, R12 scratch, R13 beta's bits,
	// R14–R17 and R19–R20 temporaries of the edge copies.
	f.I("MOVD %s, R0", f.Arg("kc"))
	f.I("MOVD %s, R2", f.Arg("n"))
	f.I("MOVD %s, R4", f.Arg("b"))
	f.I("MOVD %s, R5", f.Arg("c"))
	f.I("MOVD %s, R6", f.Arg("ldc"))
	f.I("LSL $2, R6")
	f.I("MOVD %s, R12", f.Arg("scratch"))
	f.I("FMOVS %s, F%d", f.Arg("alpha"), valpha)
	f.I("VDUP V%d.S[0], V%d.S4", valpha, valpha)
	f.I("FMOVS %s, F%d", f.Arg("beta"), vbeta)
	f.I("VDUP V%d.S[0], V%d.S4", vbeta, vbeta)
	f.I("MOVWU %s, R13", f.Arg("beta"))
	// beta = -0 must also skip reading C: only the magnitude bits count.
	f.I("AND $0x7fffffff, R13")

	f.Label("cols")
	f.I("MOVD %s, R3", f.Arg("a"))
	f.I("MOVD %s, R1", f.Arg("m"))
	f.I("MOVD R5, R10")

	f.Label("rows")
	for i := range mr * nv {
		f.I("VEOR V%d.B16, V%d.B16, V%d.B16", i, i, i)
	}
	f.I("MOVD R3, R7")
	f.I("MOVD R4, R8")
	f.I("MOVD R0, R9")
	// The C tile's rows are ldc apart, which no hardware prefetcher
	// guesses: ask for them while the k loop runs.
	f.I("MOVD R10, R11")
	for i := range mr {
		if i > 0 {
			f.I("ADD R6, R11")
		}
		f.I("PRFM (R11), PSTL1KEEP")
		f.I("PRFM %d(R11), PSTL1KEEP", 4*nr-8)
	}
	kloop(f)

	// Full tile: store straight into C; an edge tile (fewer than 8 rows or
	// 12 columns left) goes through scratch.
	f.I("CMP $%d, R1", mr)
	f.I("BLT %s", f.L("edge"))
	f.I("CMP $%d, R2", nr)
	f.I("BLT %s", f.L("edge"))
	f.I("MOVD R10, R11")
	f.I("MOVD R6, R14")
	store(f, "full")
	f.I("B %s", f.L("stored"))

	f.Label("edge")
	// R15 live rows, R16 live columns of the tile.
	f.I("MOVD $%d, R14", mr)
	f.I("CMP R14, R1")
	f.I("CSEL LT, R1, R14, R15")
	f.I("MOVD $%d, R14", nr)
	f.I("CMP R14, R2")
	f.I("CSEL LT, R2, R14, R16")
	f.I("CBZ R13, %s", f.L("edgestore"))
	edgeCopy(f, "in", "R10", "R6", "R12", "$"+strconv.Itoa(scratchStride))
	f.Label("edgestore")
	f.I("MOVD R12, R11")
	f.I("MOVD $%d, R14", scratchStride)
	store(f, "edge")
	edgeCopy(f, "out", "R12", "$"+strconv.Itoa(scratchStride), "R10", "R6")

	f.Label("stored")
	// The k loop has left R7 at the next A panel…
	f.I("MOVD R7, R3")
	f.I("ADD R6<<3, R10")
	f.I("SUBS $%d, R1", mr)
	f.I("BGT %s", f.L("rows"))
	// … and R8 at the next B panel.
	f.I("MOVD R8, R4")
	f.I("ADD $%d, R5", 4*nr)
	f.I("SUBS $%d, R2", nr)
	f.I("BGT %s", f.L("cols"))
	f.I("RET")
}

// step emits one k step: two A vectors and three B vectors loaded with
// post-increment, then the 24 FMLAs, A element i%4 of vector i/4 against
// B vector v into acc(i, v).
func step(f *neon.File) {
	f.I("VLD1.P %d(R7), [V%d.S4, V%d.S4]", 4*mr, va0, va0+1)
	f.I("VLD1.P %d(R8), [V%d.S4, V%d.S4, V%d.S4]", 4*nr, vb0, vb0+1, vb0+2)
	for i := range mr {
		for v := range nv {
			f.W(neon.FMLAElem(acc(i, v), vb0+neon.V(v), va0+neon.V(i/4), i%4))
		}
	}
}

// kloop emits R9 ≥ 1 k steps, unroll at a time and then one at a time.
func kloop(f *neon.File) {
	f.I("CMP $%d, R9", unroll)
	f.I("BLT %s", f.L("ktail"))
	f.Label("kloop")
	for range unroll {
		step(f)
	}
	f.I("SUB $%d, R9", unroll)
	f.I("CMP $%d, R9", unroll)
	f.I("BGE %s", f.L("kloop"))
	f.Label("ktail")
	f.I("CBZ R9, %s", f.L("kdone"))
	f.Label("kone")
	step(f)
	f.I("SUBS $1, R9")
	f.I("BNE %s", f.L("kone"))
	f.Label("kdone")
}

// store writes the whole 8×12 tile to the rows at R11, R14 bytes apart:
// alpha·acc, plus beta·C (fused) when beta != 0. R11 is advanced.
func store(f *neon.File, id string) {
	f.I("CBZ R13, %s", f.L(id+"0"))
	for i := range mr {
		f.I("VLD1 (R11), [V%d.S4, V%d.S4, V%d.S4]", vc0, vc0+1, vc0+2)
		for v := range nv {
			f.W(neon.FMUL(acc(i, v), acc(i, v), valpha))
			f.W(neon.FMLA(acc(i, v), vc0+neon.V(v), vbeta))
		}
		f.I("VST1 [V%d.S4, V%d.S4, V%d.S4], (R11)", acc(i, 0), acc(i, 1), acc(i, 2))
		f.I("ADD R14, R11")
	}
	f.I("B %s", f.L(id+"done"))
	f.Label(id + "0")
	for i := range mr {
		for v := range nv {
			f.W(neon.FMUL(acc(i, v), acc(i, v), valpha))
		}
		f.I("VST1 [V%d.S4, V%d.S4, V%d.S4], (R11)", acc(i, 0), acc(i, 1), acc(i, 2))
		f.I("ADD R14, R11")
	}
	f.Label(id + "done")
}

// edgeCopy copies the R15×R16 live part of a tile from the rows at src
// (stride srcStride) to the rows at dst (stride dstStride), one float at
// a time. Strides are a register or a $constant.
func edgeCopy(f *neon.File, id, src, srcStride, dst, dstStride string) {
	f.I("MOVD %s, R17", src)
	f.I("MOVD %s, R19", dst)
	f.I("MOVD R15, R14")
	f.Label(id + "row")
	f.I("MOVD ZR, R20")
	f.Label(id + "col")
	f.I("MOVWU (R17)(R20<<2), R9")
	f.I("MOVW R9, (R19)(R20<<2)")
	f.I("ADD $1, R20")
	f.I("CMP R16, R20")
	f.I("BLT %s", f.L(id+"col"))
	f.I("ADD %s, R17", srcStride)
	f.I("ADD %s, R19", dstStride)
	f.I("SUBS $1, R14")
	f.I("BNE %s", f.L(id+"row"))
}
