//go:build gc && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// neonGemm returns the neon level's installed GEMM kernel.
func neonGemm(t testing.TB) gemmKernel {
	restore, err := Use("neon")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	return active.sgemm
}

// TestNEONGemmInstalled makes sure the neon level runs the 8×12 assembly
// block kernel, so that the tests below cannot pass on the generic one.
func TestNEONGemmInstalled(t *testing.T) {
	g := neonGemm(t)
	if g.Block == nil || g.MR != 8 || g.NR != 12 {
		t.Fatalf("neon sgemm is %d×%d (Block set: %v), want the 8×12 assembly block kernel", g.MR, g.NR, g.Block != nil)
	}
	if g.MC%g.MR != 0 || g.NC%g.NR != 0 || g.KC < 1 {
		t.Errorf("blocks MC=%d KC=%d NC=%d do not fit the 8×12 tile", g.MC, g.KC, g.NC)
	}
}

// neonRun runs one case through the blocked driver with kernel g, with A
// and B at odd (unaligned) offsets after NaN, and checks C, its guard
// cells and the inputs.
func neonRun(t *testing.T, g *gemmKernel, gc *gemmCase) {
	t.Helper()
	shift := func(s []float32, off int) []float32 {
		buf := make([]float32, off+len(s))
		for i := range off {
			buf[i] = gemmNaN
		}
		copy(buf[off:], s)
		return buf[off:]
	}
	gc.a = shift(gc.a, 1+len(gc.a)%3)
	gc.b = shift(gc.b, 1+len(gc.b)%5)
	a0 := append([]float32(nil), gc.a...)
	b0 := append([]float32(nil), gc.b...)
	gemm(g, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc)
	gc.check(t)
	gemmSameBits(t, gc, "A", gc.a, a0)
	gemmSameBits(t, gc, "B", gc.b, b0)
}

// TestNEONGemmShapes runs every m and n around the tile edges with every k
// around the unrolling and k-block edges, under the level's blocking and
// under blocks of two tiles (so that the m, n and k block loops and the
// beta of later k blocks run on small problems too), cycling through the
// transpositions and scalars (beta = 0 with C full of NaN included).
func TestNEONGemmShapes(t *testing.T) {
	g := neonGemm(t)
	small := g
	small.MC, small.NC, small.KC = 2*g.MR, 2*g.NR, 7
	r := rand.New(rand.NewPCG(31, 32))
	scalars := [][2]float32{{1, 0}, {-2.5, 1}, {1, 0.5}, {-2.5, 0}, {1, 1}, {-2.5, 0.5}, {0.75, float32(math.Copysign(0, -1))}}
	trs := [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}
	for bi, g := range []gemmKernel{g, small} {
		mn := []int{1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 16, 17, 23, 24, 25, 27}
		ks := []int{1, 2, 3, 4, 5, 8, 9, g.KC - 1, g.KC, g.KC + 1, 2*g.KC + 3}
		cs := 0
		for _, m := range mn {
			for _, n := range mn {
				for _, k := range ks {
					tr := trs[cs%4]
					sc := scalars[cs%len(scalars)]
					cs++
					neonRun(t, &g, newGemmCase(r, tr[0], tr[1], m, n, k, sc[0], sc[1], cs%3 != 0))
					if t.Failed() {
						t.Fatalf("blocking %d (MC=%d KC=%d NC=%d)", bi, g.MC, g.KC, g.NC)
					}
				}
			}
		}
		for range 6 {
			m, n, k := 1+r.IntN(300), 1+r.IntN(300), 1+r.IntN(300)
			for _, tr := range trs {
				sc := scalars[cs%len(scalars)]
				cs++
				neonRun(t, &g, newGemmCase(r, tr[0], tr[1], m, n, k, sc[0], sc[1], true))
			}
		}
	}
}

// TestNEONGemmLeadingDims runs shapes with edge tiles both ways under
// leading dimensions far past the rows.
func TestNEONGemmLeadingDims(t *testing.T) {
	g := neonGemm(t)
	r := rand.New(rand.NewPCG(33, 34))
	for _, s := range [][3]int{{19, 29, 37}, {8, 12, 5}, {3, 40, 9}} {
		for _, sc := range [][2]float32{{1, 0}, {-2.5, 0.5}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], false)
				extra := 1 + r.IntN(17)
				ar, ac := gc.m, gc.k
				if gc.transA {
					ar, ac = gc.k, gc.m
				}
				br, bc := gc.k, gc.n
				if gc.transB {
					br, bc = gc.n, gc.k
				}
				gc.a = neonRestride(gc.a, ar, ac, gc.lda, gc.lda+extra)
				gc.b = neonRestride(gc.b, br, bc, gc.ldb, gc.ldb+extra)
				gc.lda += extra
				gc.ldb += extra
				ldc := gc.ldc + extra
				cbuf := make([]float32, (gc.m-1)*ldc+gc.n+2*gemmGuard)
				for i := range cbuf {
					cbuf[i] = gemmNaN
				}
				for i := range gc.m {
					copy(cbuf[gc.coff+i*ldc:gc.coff+i*ldc+gc.n], gc.cbuf[gc.coff+i*gc.ldc:])
				}
				gc.cbuf, gc.ldc = cbuf, ldc
				gc.c0 = append([]float32(nil), cbuf...)
				neonRun(t, &g, gc)
			}
		}
	}
}

func neonRestride(s []float32, rows, cols, from, to int) []float32 {
	d := make([]float32, (rows-1)*to+cols)
	for i := range d {
		d[i] = gemmNaN
	}
	for i := range rows {
		copy(d[i*to:i*to+cols], s[i*from:i*from+cols])
	}
	return d
}

// TestNEONGemmAllocs requires the driver with the neon kernel (whose glue
// keeps the edge scratch tile on its stack) to allocate nothing once warm.
func TestNEONGemmAllocs(t *testing.T) {
	g := neonGemm(t)
	r := rand.New(rand.NewPCG(35, 36))
	gc := newGemmCase(r, false, true, 61, 53, 47, -2.5, 0.5, true)
	run := func() {
		gemm(&g, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc)
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

// TestNEONGemmBlockChecks makes sure the glue refuses what the assembly
// must never see.
func TestNEONGemmBlockChecks(t *testing.T) {
	g := neonGemm(t)
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
		{func() { g.Block(4, a, b, c, nr, 1, 0, 3, 0) }, true},
	}
	for i, tc := range cases {
		if msg := gemmPanic(tc.what); (msg != "") != tc.bad {
			t.Errorf("case %d: panic %q, want panic: %v", i, msg, tc.bad)
		}
	}
}

// smallSets are the unpacked small-GEMM sets of the arm64 levels, by
// level name (BenchmarkGemmSmallCrossover).
var smallSets = []struct {
	name  string
	small *smallLevel
}{{"neon", smallNEON}}
