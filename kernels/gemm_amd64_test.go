//go:build gc && !purego

package kernels

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels/asm/alttiles"
)

// avx512Tiles are the AVX-512 micro-kernels, the installed one first, then
// the generated ones it was chosen over, kept so that the tests check them
// and BenchmarkSgemmTile compares them.
var avx512Tiles = []gemmTile{
	avx512Tile,
	{"14x32", 14, 32, alttiles.SgemmKernel14x32AVX512},
	{"6x64", 6, 64, alttiles.SgemmKernel6x64AVX512},
	{"12x32-bcst", 12, 32, alttiles.SgemmKernel12x32BcstAVX512},
}

// packedGemmKernels returns every packed GEMM kernel this machine can
// run: each level's installed one and, with AVX-512, the tile variants
// that are generated but not installed.
func packedGemmKernels() map[string]gemmKernel {
	ks := map[string]gemmKernel{}
	for _, level := range Available() {
		restore, err := Use(level)
		if err != nil {
			panic(err)
		}
		ks[level] = active.sgemm
		restore()
	}
	if hasAVX2() && hasAVX512() {
		for _, t := range avx512Tiles {
			ks["avx512-"+t.name] = t.kernel()
		}
	}
	return ks
}

// TestSgemmPackedLevels checks that each assembly level has installed its
// block kernel with the tile the tests below assume, so that they cannot
// pass by exercising the generic kernel only.
func TestSgemmPackedLevels(t *testing.T) {
	want := map[string][2]int{"avx2": {6, 16}, "avx512": {12, 32}}
	for _, level := range Available() {
		tile, ok := want[level]
		if !ok {
			continue
		}
		restore, err := Use(level)
		if err != nil {
			t.Fatal(err)
		}
		g := active.sgemm
		restore()
		if g.Block == nil || g.MR != tile[0] || g.NR != tile[1] {
			t.Errorf("%s: sgemm is %d×%d (Block set: %v), want the %d×%d assembly block kernel", level, g.MR, g.NR, g.Block != nil, tile[0], tile[1])
		}
		if g.MC%g.MR != 0 || g.NC%g.NR != 0 || g.KC < 1 {
			t.Errorf("%s: blocks MC=%d KC=%d NC=%d do not fit the %d×%d tile", level, g.MC, g.KC, g.NC, g.MR, g.NR)
		}
	}
	if hasAVX2() {
		if _, ok := packedGemmKernels()["avx2"]; !ok {
			t.Error("the CPU has AVX2 and FMA but the avx2 level is missing")
		}
	}
}

// gemmPackedScalars are the (alpha, beta) pairs the packed tests cycle
// through; beta == 0 runs with C full of NaN, which must not leak.
var gemmPackedScalars = [][2]float32{{1, 0}, {-2.5, 1}, {1, 0.5}, {-2.5, 0}, {1, 1}, {-2.5, 0.5}}

var gemmTransposes = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

// offsetCopy returns a copy of s that starts off elements into a fresh
// buffer whose first off elements are NaN, so that the kernels see operands
// at odd, unaligned addresses.
func offsetCopy(s []float32, off int) []float32 {
	buf := make([]float32, off+len(s))
	for i := range off {
		buf[i] = gemmNaN
	}
	copy(buf[off:], s)
	return buf[off:]
}

// runPacked runs one case through the blocked driver with kernel g (not
// through Sgemm, whose small-matrix path would take the small shapes),
// with A and B at odd offsets, and checks C, its guard cells and the
// inputs.
func runPacked(t *testing.T, g *gemmKernel, gc *gemmCase) {
	t.Helper()
	gc.a = offsetCopy(gc.a, 1+len(gc.a)%3)
	gc.b = offsetCopy(gc.b, 1+len(gc.b)%5)
	a0 := append([]float32(nil), gc.a...)
	b0 := append([]float32(nil), gc.b...)
	if gc.m > 0 && gc.n > 0 && gc.k > 0 && gc.alpha != 0 {
		gemm(g, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc)
	} else {
		gc.run()
	}
	gc.check(t)
	gemmSameBits(t, gc, "A", gc.a, a0)
	gemmSameBits(t, gc, "B", gc.b, b0)
}

// packedShapes returns the shapes the packed kernels are tested on: every
// m and n around the tile edges with every k around the k-block edges
// (the transposition and scalars cycle through their cases), plus random
// shapes up to 300.
func packedShapes(r *rand.Rand, g *gemmKernel) [][3]int {
	mr, nr, kc := g.MR, g.NR, g.KC
	mn := []int{1, 2, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1, 2*mr + 1, 2*nr + 3}
	ks := []int{1, 2, 3, 4, 5, 9, kc - 1, kc, kc + 1, 2*kc + 3}
	var sizes [][3]int
	for _, m := range mn {
		for _, n := range mn {
			for _, k := range ks {
				if m >= 1 && n >= 1 {
					sizes = append(sizes, [3]int{m, n, k})
				}
			}
		}
	}
	for range 8 {
		sizes = append(sizes, [3]int{1 + r.IntN(300), 1 + r.IntN(300), 1 + r.IntN(300)})
	}
	return sizes
}

func TestSgemmPackedShapes(t *testing.T) {
	for name, g := range packedGemmKernels() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			// The level's blocking, then blocks of two tiles, so that the
			// m, n and k block loops (and the beta of later k blocks)
			// run on small problems too.
			small := g
			small.MC, small.NC, small.KC = 2*g.MR, 2*g.NR, 7
			for bi, g := range []gemmKernel{g, small} {
				cs := 0
				for _, s := range packedShapes(r, &g) {
					trs := gemmTransposes[cs%4 : cs%4+1]
					if s[0] > 2*g.NR+3 || s[1] > 2*g.NR+3 {
						trs = gemmTransposes // the random shapes get all four
					}
					for _, tr := range trs {
						sc := gemmPackedScalars[cs%len(gemmPackedScalars)]
						cs++
						gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], cs%4 != 0)
						runPacked(t, &g, gc)
						if t.Failed() {
							t.Fatalf("blocking %d (MC=%d KC=%d NC=%d)", bi, g.MC, g.KC, g.NC)
						}
					}
				}
			}
		})
	}
}

// TestSgemmPackedLeadingDims runs a shape with two edge tiles each way
// under strides much larger than the rows, every transposition and all
// scalar pairs.
func TestSgemmPackedLeadingDims(t *testing.T) {
	for name, g := range packedGemmKernels() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(23, 24))
			m, n, k := 2*g.MR+3, 2*g.NR+5, 37
			for _, tr := range gemmTransposes {
				for _, sc := range gemmPackedScalars {
					gc := newGemmCase(r, tr[0], tr[1], m, n, k, sc[0], sc[1], false)
					// Re-lay A, B and C with leading dimensions 1 to 17
					// elements past their rows.
					wide := newGemmCase(r, tr[0], tr[1], m, n, k, sc[0], sc[1], false)
					relayout(gc, wide, 1+r.IntN(17))
					runPacked(t, &g, wide)
				}
			}
		})
	}
}

// relayout copies the operands of src into dst with every leading
// dimension grown by extra, the padding NaN.
func relayout(src, dst *gemmCase, extra int) {
	ar, ac := src.m, src.k
	if src.transA {
		ar, ac = src.k, src.m
	}
	br, bc := src.k, src.n
	if src.transB {
		br, bc = src.n, src.k
	}
	dst.lda, dst.ldb, dst.ldc = src.lda+extra, src.ldb+extra, src.ldc+extra
	dst.a = restride(src.a, ar, ac, src.lda, dst.lda)
	dst.b = restride(src.b, br, bc, src.ldb, dst.ldb)
	dst.cbuf = make([]float32, (src.m-1)*dst.ldc+src.n+2*gemmGuard)
	for i := range dst.cbuf {
		dst.cbuf[i] = gemmNaN
	}
	for i := range src.m {
		copy(dst.cbuf[dst.coff+i*dst.ldc:dst.coff+i*dst.ldc+src.n], src.cbuf[src.coff+i*src.ldc:])
	}
	dst.c0 = append([]float32(nil), dst.cbuf...)
}

func restride(s []float32, rows, cols, from, to int) []float32 {
	d := make([]float32, (rows-1)*to+cols)
	for i := range d {
		d[i] = gemmNaN
	}
	for i := range rows {
		copy(d[i*to:i*to+cols], s[i*from:i*from+cols])
	}
	return d
}

// TestSgemmPackedLarge runs shapes that span several m, n and k blocks of
// each kernel's real blocking through Sgemm itself.
func TestSgemmPackedLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large products")
	}
	for name, g := range packedGemmKernels() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(25, 26))
			shapes := [][3]int{
				{g.MC + g.MR + 1, g.NR + 3, g.KC + 5},
				{g.MR + 1, 2*g.NR + 1, 2*g.KC + 1},
				{70, 520, 2*g.KC - 3},
			}
			for i, s := range shapes {
				tr := gemmTransposes[i%4]
				sc := gemmPackedScalars[i%len(gemmPackedScalars)]
				runPacked(t, &g, newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], true))
			}
			// More columns than one NC block.
			g.NC = 2 * g.NR
			runPacked(t, &g, newGemmCase(r, false, true, 9, 5*g.NR+7, 11, 1, 0.5, true))
		})
	}
}

// TestSgemmPackedAllocs requires the packed driver to allocate nothing
// once its workspace has grown, for each kernel and transposition.
func TestSgemmPackedAllocs(t *testing.T) {
	for name, g := range packedGemmKernels() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(27, 28))
			for _, tr := range gemmTransposes {
				gc := newGemmCase(r, tr[0], tr[1], 131, 157, 149, -2.5, 0.5, true)
				run := func() {
					gemm(&g, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc)
				}
				run()
				if n := testing.AllocsPerRun(5, run); n != 0 {
					t.Errorf("%v: %v allocations per call", gc, n)
				}
			}
		})
	}
}

// TestSgemmPackedBlockChecks makes sure the glue refuses what the assembly
// must never see.
func TestSgemmPackedBlockChecks(t *testing.T) {
	for name, g := range packedGemmKernels() {
		if g.Block == nil {
			continue
		}
		mr, nr := g.MR, g.NR
		a := make([]float32, mr*4)
		b := make([]float32, nr*4)
		c := make([]float32, 3*nr)
		cases := []struct {
			what func()
			bad  bool
		}{
			{func() { g.Block(4, a, b, c, nr, 1, 0, 3, nr) }, false},
			{func() { g.Block(4, a[:len(a)-1], b, c, nr, 1, 0, 3, nr) }, true},
			{func() { g.Block(4, a, b[:len(b)-1], c, nr, 1, 0, 3, nr) }, true},
			{func() { g.Block(4, a, b, c[:2*nr+nr-1], nr, 1, 0, 3, nr) }, true},
			{func() { g.Block(0, a, b, c, nr, 1, 0, 3, nr) }, true},
			{func() { g.Block(4, a, b, c, nr-1, 1, 0, 3, nr) }, true},
			{func() { g.Block(4, a, b, c, nr, 1, 0, 0, nr) }, true},
		}
		for i, tc := range cases {
			if msg := gemmPanic(tc.what); (msg != "") != tc.bad {
				t.Errorf("%s: case %d: panic %q, want panic: %v", name, i, msg, tc.bad)
			}
		}
	}
}

// BenchmarkSgemmTile runs the large squares through the blocked driver
// with each AVX-512 tile, installed or not, to keep the choice of
// gemmAVX512 measured.
func BenchmarkSgemmTile(b *testing.B) {
	if !hasAVX2() || !hasAVX512() {
		b.Skip("no AVX-512")
	}
	for _, t := range avx512Tiles {
		g := t.kernel()
		b.Run("impl=avx512-"+t.name, func(b *testing.B) {
			for _, n := range []int{512, 1024, 2048} {
				b.Run(gemmShapeName(n, n, n, false, false), func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					x, y, z := gemmRand(r, n*n), gemmRand(r, n*n), gemmRand(r, n*n)
					b.ReportAllocs()
					for b.Loop() {
						gemm(&g, false, false, n, n, n, 1, x, n, y, n, 0, z, n)
					}
					b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}

// smallSets are the unpacked small-GEMM sets of the amd64 levels, by
// level name (BenchmarkGemmSmallCrossover).
var smallSets = []struct {
	name  string
	small *smallLevel
}{{"avx2", smallAVX2}, {"avx512", smallAVX512}}

// TestPackT6AVX2 checks the AVX2 transposing pack against packTransposed
// for every kc from 1 to 41 (whole chunks of eight and every tail), odd
// leading dimensions and a source that starts off any 32-byte boundary,
// with guard cells after the panel.
func TestPackT6AVX2(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(63, 64))
	for kc := 1; kc <= 41; kc++ {
		for _, ld := range []int{kc, kc + 1, kc + 7, 784} {
			for _, off := range []int{0, 1, 3} {
				src := gemmRand(r, off+5*ld+kc)[off:]
				want := make([]float32, 6*kc)
				packTransposed(want, src, ld, 6, 6, kc)
				got := make([]float32, 6*kc+9)
				for i := range got {
					got[i] = gemmNaN
				}
				packT6AVX2(got, src, ld, kc)
				if d := firstDiff(got[:6*kc], want); d >= 0 {
					t.Fatalf("kc=%d ld=%d off=%d: panel[%d] = %v, want %v (k step %d, row %d)", kc, ld, off, d, got[d], want[d], d/6, d%6)
				}
				for i, v := range got[6*kc:] {
					if v == v {
						t.Fatalf("kc=%d ld=%d off=%d: guard cell %d written: %v", kc, ld, off, i, v)
					}
				}
			}
		}
	}
	// Short slices panic in Go before the assembly runs.
	src := make([]float32, 5*16+7)
	if msg := mustPanic(func() { packT6AVX2(make([]float32, 48), src, 16, 8) }); !strings.Contains(msg, "PackT6AVX2") {
		t.Errorf("short src: panic %q, want one naming PackT6AVX2", msg)
	}
	if msg := mustPanic(func() { packT6AVX2(make([]float32, 47), make([]float32, 5*16+8), 16, 8) }); !strings.Contains(msg, "PackT6AVX2") {
		t.Errorf("short panel: panic %q, want one naming PackT6AVX2", msg)
	}
}

// BenchmarkPackT packs X of the trainer's batch-256 forward product
// (256×784, 42 full 6-row panels, kc 784) with packTransposed and with
// the AVX2 level's transposing pack, reporting nanoseconds per element.
func BenchmarkPackT(b *testing.B) {
	if !hasAVX2() {
		b.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(65, 66))
	const rows, k = 252, 784
	src := gemmRand(r, 256*k)
	dst := make([]float32, rows*k)
	for _, v := range []struct {
		name string
		pack func(panel, src []float32, ld, kc int)
	}{
		{"go", func(panel, src []float32, ld, kc int) { packTransposed(panel, src, ld, 6, 6, kc) }},
		{"avx2", packT6AVX2},
	} {
		b.Run("impl="+v.name, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < rows; i += 6 {
					v.pack(dst[i*k:], src[i*k:], k, k)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*k), "ns/elem")
		})
	}
}
