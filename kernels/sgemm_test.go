package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// The tolerance of every Sgemm result against the float64 reference:
//
//	|C - Cref| ≤ (k+3)·2⁻²⁴·(|alpha|·Σ_p |op(A)[i,p]|·|op(B)[p,j]| + |beta·C0[i,j]|)
//
// This is the standard bound for a float32 dot product of length k summed
// in any order (each product and each partial sum rounds once, at most k
// roundings on any path), plus three for alpha·sum, beta·C and their sum.
// It is a bound, not a fudge: a kernel that drops or repeats a term, or
// reads a wrong element, misses it by far more than k ulps.
const gemmUlp = 1.0 / (1 << 24)

// gemmCase is one Sgemm problem with its operands laid out in padded
// buffers: every leading dimension may exceed the row, the padding of A
// and B holds NaN (so reading it poisons the result) and C sits between
// guard cells of NaN (so writing outside the m×n region is caught).
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b           []float32
	lda, ldb, ldc  int
	cbuf           []float32 // guard, C, guard
	coff           int       // offset of C in cbuf
	c0             []float32 // copy of cbuf before the call
}

const gemmGuard = 5

var gemmNaN = float32(math.NaN())

func newGemmCase(r *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad bool) *gemmCase {
	g := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	extra := func() int {
		if pad {
			return r.IntN(4)
		}
		return 0
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	g.lda = max(1, ac) + extra()
	g.ldb = max(1, bc) + extra()
	g.ldc = max(1, n) + extra()
	g.a = gemmMatrix(r, ar, ac, g.lda)
	g.b = gemmMatrix(r, br, bc, g.ldb)
	clen := 0
	if m > 0 && n > 0 {
		clen = (m-1)*g.ldc + n
	}
	g.coff = gemmGuard
	g.cbuf = make([]float32, clen+2*gemmGuard)
	for i := range g.cbuf {
		g.cbuf[i] = gemmNaN
	}
	for i := range m {
		for j := range n {
			if beta == 0 {
				// BLAS says C is not read when beta == 0: NaN must vanish.
				g.cbuf[g.coff+i*g.ldc+j] = gemmNaN
			} else {
				g.cbuf[g.coff+i*g.ldc+j] = r.Float32()*2 - 1
			}
		}
	}
	g.c0 = append([]float32(nil), g.cbuf...)
	return g
}

// gemmMatrix returns a rows×cols matrix with leading dimension ld whose
// padding columns hold NaN. Its length is exactly ld·(rows-1)+cols, the
// minimum Sgemm accepts, so a read past the end panics.
func gemmMatrix(r *rand.Rand, rows, cols, ld int) []float32 {
	if rows == 0 || cols == 0 {
		return nil
	}
	s := make([]float32, (rows-1)*ld+cols)
	for i := range s {
		if i%ld < cols {
			s[i] = r.Float32()*2 - 1
		} else {
			s[i] = gemmNaN
		}
	}
	return s
}

func (g *gemmCase) c() []float32 {
	return g.cbuf[g.coff : len(g.cbuf)-gemmGuard]
}

func (g *gemmCase) run() {
	Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c(), g.ldc)
}

func (g *gemmCase) String() string {
	return fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d alpha=%g beta=%g lda=%d ldb=%d ldc=%d",
		g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

func (g *gemmCase) opA(i, p int) float32 {
	if g.transA {
		return g.a[p*g.lda+i]
	}
	return g.a[i*g.lda+p]
}

func (g *gemmCase) opB(p, j int) float32 {
	if g.transB {
		return g.b[j*g.ldb+p]
	}
	return g.b[p*g.ldb+j]
}

// check compares the result with a float64 triple loop and verifies that
// nothing outside C's m×n region changed.
func (g *gemmCase) check(t *testing.T) {
	t.Helper()
	bits := math.Float32bits
	for idx, got := range g.cbuf {
		off := idx - g.coff
		inside := off >= 0 && off < len(g.cbuf)-2*gemmGuard && off%g.ldc < g.n
		if !inside {
			if bits(got) != bits(g.c0[idx]) {
				t.Fatalf("%v: cbuf[%d] (outside C's %d×%d region) changed from %v to %v", g, idx, g.m, g.n, g.c0[idx], got)
			}
			continue
		}
		i, j := off/g.ldc, off%g.ldc
		var sum, mag float64
		if g.alpha != 0 {
			for p := range g.k {
				x := float64(g.opA(i, p)) * float64(g.opB(p, j))
				sum += x
				mag += math.Abs(x)
			}
		}
		want := float64(g.alpha) * sum
		mag *= math.Abs(float64(g.alpha))
		if g.beta != 0 {
			bc := float64(g.beta) * float64(g.c0[idx])
			want += bc
			mag += math.Abs(bc)
		}
		tol := float64(g.k+3) * gemmUlp * mag
		if diff := math.Abs(float64(got) - want); !(diff <= tol) {
			t.Fatalf("%v: C[%d,%d] = %v, want %v (|diff| %.3g > tol %.3g)", g, i, j, got, want, diff, tol)
		}
	}
}

// forEachGemmLevel runs f with every available kernel level active.
func forEachGemmLevel(t *testing.T, f func(t *testing.T, g *gemmKernel)) {
	for _, level := range Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t, &active.sgemm)
		})
	}
}

var gemmScalars = [][2]float32{{1, 0}, {1, 1}, {1, 0.3}, {-0.5, 0}, {-0.5, 1}, {-0.5, 0.3}, {0, 0}, {0, 1}, {0, 0.3}}

func TestSgemmShapes(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, g *gemmKernel) {
		r := rand.New(rand.NewPCG(3, 4))
		// Sizes around the tile and block edges of this level's kernel.
		mn := []int{0, 1, 2, 3, 4, 5, g.MR - 1, g.MR, g.MR + 1, g.NR - 1, g.NR, g.NR + 1, 2*g.NR + 1, 17}
		ks := []int{0, 1, 2, 3, 5, 16, 33}
		var sizes [][3]int
		for _, m := range mn {
			for _, n := range mn {
				for _, k := range ks {
					sizes = append(sizes, [3]int{m, n, k})
				}
			}
		}
		// K blocking: one block, one block and a step, and several blocks.
		for _, k := range []int{g.KC - 1, g.KC, g.KC + 1, 2*g.KC + 3} {
			for _, mn := range [][2]int{{1, 1}, {3, g.NR + 2}, {g.MR + 1, 5}} {
				sizes = append(sizes, [3]int{mn[0], mn[1], k})
			}
		}
		// M and N blocking.
		sizes = append(sizes,
			[3]int{g.MC - 1, 3, 4}, [3]int{g.MC + 1, g.NR + 1, 5}, [3]int{2*g.MC + 1, 2, 3},
			[3]int{2, g.NC - 1, 3}, [3]int{3, g.NC + 1, 2}, [3]int{1, 2*g.NC + 5, 4})
		// Random shapes up to 300.
		for range 6 {
			sizes = append(sizes, [3]int{1 + r.IntN(300), 1 + r.IntN(300), 1 + r.IntN(300)})
		}
		cs := 0
		for _, s := range sizes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				sc := gemmScalars[cs%len(gemmScalars)]
				cs++
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], cs%3 != 0)
				a0 := append([]float32(nil), gc.a...)
				b0 := append([]float32(nil), gc.b...)
				gc.run()
				gc.check(t)
				gemmSameBits(t, gc, "A", gc.a, a0)
				gemmSameBits(t, gc, "B", gc.b, b0)
			}
		}
	})
}

func gemmSameBits(t *testing.T, g *gemmCase, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%v: input %s changed at %d: %v, was %v", g, name, i, got[i], want[i])
		}
	}
}

// TestSgemmScalars covers every alpha, beta pair on every transposition for
// a few shapes that need edge tiles.
func TestSgemmScalars(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, g *gemmKernel) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range [][3]int{{g.MR + 1, g.NR + 1, 7}, {13, 29, 41}} {
			for _, sc := range gemmScalars {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], true)
					gc.run()
					gc.check(t)
				}
			}
		}
	})
}

// TestSgemmAlphaZeroDoesNotRead fills A and B with NaN: with alpha == 0
// (or k == 0) they must not be read, so C must come out as beta·C exactly.
func TestSgemmAlphaZeroDoesNotRead(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, _ *gemmKernel) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, beta := range []float32{0, 1, 0.3} {
			for _, k := range []int{0, 9} {
				gc := newGemmCase(r, false, true, 6, 11, k, 0, beta, true)
				for i := range gc.a {
					gc.a[i] = gemmNaN
				}
				for i := range gc.b {
					gc.b[i] = gemmNaN
				}
				gc.run()
				gc.check(t)
				for i := range gc.m {
					for j := range gc.n {
						idx := gc.coff + i*gc.ldc + j
						if want := beta * gc.c0[idx]; beta == 0 && gc.cbuf[idx] != 0 || beta != 0 && gc.cbuf[idx] != want {
							t.Fatalf("%v: C[%d,%d] = %v, want beta·C = %v", gc, i, j, gc.cbuf[idx], want)
						}
					}
				}
			}
		}
	})
}

// TestSgemmKZeroWithBetaOne checks the other quick return: C untouched.
func TestSgemmKZeroWithBetaOne(t *testing.T) {
	c := []float32{1, gemmNaN, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 1, c, 2)
	if c[0] != 1 || !math.IsNaN(float64(c[1])) || c[2] != 3 || c[3] != 4 {
		t.Fatalf("C = %v, want it unchanged", c)
	}
}

func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	type args struct {
		tA, tB        bool
		m, n, k       int
		a, b, c       []float32
		lda, ldb, ldc int
	}
	ok := args{m: 2, n: 3, k: 4, a: s[:8], lda: 4, b: s[:12], ldb: 3, c: s[:6], ldc: 3}
	tests := []struct {
		name string
		mod  func(*args)
		want string
	}{
		{"m<0", func(x *args) { x.m = -1 }, "kernels: Sgemm: m = -1, need ≥ 0"},
		{"n<0", func(x *args) { x.n = -2 }, "kernels: Sgemm: n = -2, need ≥ 0"},
		{"k<0", func(x *args) { x.k = -3 }, "kernels: Sgemm: k = -3, need ≥ 0"},
		{"m<0 before lda", func(x *args) { x.m, x.lda = -1, 0 }, "kernels: Sgemm: m = -1, need ≥ 0"},
		{"lda", func(x *args) { x.lda = 3 }, "kernels: Sgemm: lda = 3, need ≥ 4 (k, A not transposed)"},
		{"lda k=0", func(x *args) { x.k, x.lda, x.ldb = 0, 0, 3 }, "kernels: Sgemm: lda = 0, need ≥ 1 (k, A not transposed)"},
		{"lda tA", func(x *args) { x.tA, x.lda = true, 1 }, "kernels: Sgemm: lda = 1, need ≥ 2 (m, A transposed)"},
		{"ldb", func(x *args) { x.ldb = 2 }, "kernels: Sgemm: ldb = 2, need ≥ 3 (n, B not transposed)"},
		{"ldb tB", func(x *args) { x.tB, x.ldb = true, 3 }, "kernels: Sgemm: ldb = 3, need ≥ 4 (k, B transposed)"},
		{"ldc", func(x *args) { x.ldc = 2 }, "kernels: Sgemm: ldc = 2, need ≥ 3 (n)"},
		{"ldc n=0", func(x *args) { x.n, x.ldb, x.ldc = 0, 1, 0 }, "kernels: Sgemm: ldc = 0, need ≥ 1 (n)"},
		{"lda before ldc", func(x *args) { x.lda, x.ldc = 1, 1 }, "kernels: Sgemm: lda = 1, need ≥ 4 (k, A not transposed)"},
		{"short a", func(x *args) { x.a = s[:7] }, "kernels: Sgemm: len(a) = 7, need 8"},
		{"short a lda", func(x *args) { x.lda = 9; x.a = s[:12] }, "kernels: Sgemm: len(a) = 12, need 13"},
		{"short a tA", func(x *args) { x.tA, x.lda, x.a = true, 5, s[:16] }, "kernels: Sgemm: len(a) = 16, need 17"},
		{"short b", func(x *args) { x.b = s[:11] }, "kernels: Sgemm: len(b) = 11, need 12"},
		{"short b tB", func(x *args) { x.tB, x.ldb, x.b = true, 6, s[:15] }, "kernels: Sgemm: len(b) = 15, need 16"},
		{"short c", func(x *args) { x.ldc = 4; x.c = s[:6] }, "kernels: Sgemm: len(c) = 6, need 7"},
		{"short a before c", func(x *args) { x.a, x.c = s[:1], s[:1] }, "kernels: Sgemm: len(a) = 1, need 8"},
		{"overflow", func(x *args) { x.m, x.lda = 3, math.MaxInt/2 }, fmt.Sprintf("kernels: Sgemm: 3×4 matrix with leading dimension %d overflows int", math.MaxInt/2)},
	}
	for _, tc := range tests {
		x := ok
		tc.mod(&x)
		got := gemmPanic(func() {
			Sgemm(x.tA, x.tB, x.m, x.n, x.k, 1, x.a, x.lda, x.b, x.ldb, 0, x.c, x.ldc)
		})
		if got != tc.want {
			t.Errorf("%s: panic %q, want %q", tc.name, got, tc.want)
		}
	}
	// The unmodified arguments are valid, and an empty C needs no slices.
	if got := gemmPanic(func() { Sgemm(false, false, 2, 3, 4, 1, s[:8], 4, s[:12], 3, 0, s[:6], 3) }); got != "" {
		t.Errorf("valid call panicked: %s", got)
	}
	if got := gemmPanic(func() { Sgemm(true, true, 0, 5, 4, 1, nil, 1, nil, 4, 0, nil, 5) }); got != "" {
		t.Errorf("m = 0 call panicked: %s", got)
	}
}

func gemmPanic(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestSgemmAllocs(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, _ *gemmKernel) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, s := range benchGemmShapes {
			if s.m*s.n*s.k > 1<<22 {
				continue // the large squares add run time, not coverage
			}
			gc := newGemmCase(r, s.transA, s.transB, s.m, s.n, s.k, 1, 0.5, false)
			if n := testing.AllocsPerRun(5, gc.run); n != 0 {
				t.Errorf("%s: %v allocations per call", gemmShapeName(s.m, s.n, s.k, s.transA, s.transB), n)
			}
		}
	})
}

// TestSgemmConcurrent runs the trainer's shapes from several goroutines at
// once (run it under -race too) and requires every result to equal, bit
// for bit, the one computed alone: workspaces must not be shared.
func TestSgemmConcurrent(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, _ *gemmKernel) {
		r := rand.New(rand.NewPCG(11, 12))
		var cases []*gemmCase
		var want [][]float32
		for _, s := range benchGemmShapes[:6] {
			gc := newGemmCase(r, s.transA, s.transB, s.m, s.n, s.k, 1, 0, false)
			gc.run()
			want = append(want, append([]float32(nil), gc.cbuf...))
			cases = append(cases, gc)
		}
		const workers = 4
		var wg sync.WaitGroup
		errs := make(chan string, workers*len(cases))
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for rep := range 3 {
					for i := range cases {
						gc := cases[(i+w+rep)%len(cases)]
						c := make([]float32, len(gc.cbuf))
						copy(c, gc.c0)
						Sgemm(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, c[gc.coff:len(c)-gemmGuard], gc.ldc)
						for j := range c {
							if math.Float32bits(c[j]) != math.Float32bits(want[(i+w+rep)%len(cases)][j]) {
								errs <- fmt.Sprintf("%v: concurrent result differs at %d", gc, j)
								return
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		var msgs []string
		for e := range errs {
			msgs = append(msgs, e)
		}
		if len(msgs) > 0 {
			t.Fatal(strings.Join(msgs, "\n"))
		}
	})
}

// naiveGemmKernel returns a gemmKernel with an mr×nr micro-kernel written
// as plain loops, and deliberately tiny cache blocks. It lets the driver's
// packing (every transposition, panels of several rows, zero padding) and
// all three blocking loops be tested on small problems, whatever tile the
// real levels use. The micro-kernel also checks the driver's side of the
// contract: the panels' padding beyond the live m×n tile must be zero.
func naiveGemmKernel(t *testing.T, mr, nr, mc, kc, nc int) gemmKernel {
	micro := func(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
		if kc < 1 || m < 1 || m > mr || n < 1 || n > nr || len(a) < kc*mr || len(b) < kc*nr || len(c) < (m-1)*ldc+n {
			t.Fatalf("micro-kernel called with kc=%d m=%d n=%d len(a)=%d len(b)=%d len(c)=%d ldc=%d", kc, m, n, len(a), len(b), len(c), ldc)
		}
		for p := range kc {
			for i := m; i < mr; i++ {
				if a[p*mr+i] != 0 {
					t.Fatalf("A panel padding a[%d] = %v, want 0", p*mr+i, a[p*mr+i])
				}
			}
			for j := n; j < nr; j++ {
				if b[p*nr+j] != 0 {
					t.Fatalf("B panel padding b[%d] = %v, want 0", p*nr+j, b[p*nr+j])
				}
			}
		}
		for i := range m {
			for j := range n {
				var s float32
				for p := range kc {
					s += a[p*mr+i] * b[p*nr+j]
				}
				if beta == 0 {
					c[i*ldc+j] = alpha * s
				} else {
					c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
				}
			}
		}
	}
	return gemmKernel{MR: mr, NR: nr, MC: mc, KC: kc, NC: nc, Micro: micro}
}

// TestGemmDriver runs the blocked driver with small blocks and several
// tile shapes, including the generic micro-kernel, on every transposition.
func TestGemmDriver(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	kerns := []gemmKernel{
		naiveGemmKernel(t, 3, 5, 6, 4, 10),
		naiveGemmKernel(t, 4, 2, 8, 3, 4),
		naiveGemmKernel(t, 1, 3, 2, 5, 6),
		{MR: 1, NR: 7, MC: 3, KC: 5, NC: 14, Micro: refGemm1x7},
	}
	for _, g := range kerns {
		for _, s := range [][3]int{{1, 1, 1}, {2, 3, 4}, {7, 11, 13}, {g.MC + 1, g.NC + 1, g.KC + 1}, {3*g.MC - 1, 2*g.NC + 3, 3*g.KC + 2}, {23, 19, 17}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, sc := range [][2]float32{{1, 0}, {-0.5, 0.3}} {
					gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], true)
					gemm(&g, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc)
					if t.Failed() {
						t.Fatalf("MR=%d NR=%d: %v", g.MR, g.NR, gc)
					}
					gc.check(t)
				}
			}
		}
	}
}

// TestPackRuns checks packRuns on every panel width it has a copy loop
// for, and one it has not, with full and partial runs, an odd leading
// dimension and an unaligned source: the panel must hold the runs, zero
// past w, and nothing beyond it may be written. The AVX-512 widths (12,
// 14, 32, 64) are checked here on any CPU.
func TestPackRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, width := range []int{6, 8, 12, 14, 16, 32, 64, 10} {
		for _, w := range []int{width, width - 1, 1} {
			for _, kc := range []int{1, 7, 33} {
				ld := width + 3
				src := gemmRand(r, 1+kc*ld)[1:]
				panel := make([]float32, kc*width+5)
				for i := range panel {
					panel[i] = gemmNaN
				}
				packRuns(panel, src, ld, w, width, kc)
				for p := range kc {
					for j := range width {
						want := float32(0)
						if j < w {
							want = src[p*ld+j]
						}
						if got := panel[p*width+j]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("width=%d w=%d kc=%d: panel[%d][%d] = %v, want %v", width, w, kc, p, j, got, want)
						}
					}
				}
				for i, v := range panel[kc*width:] {
					if v == v {
						t.Fatalf("width=%d w=%d kc=%d: guard cell %d written: %v", width, w, kc, i, v)
					}
				}
			}
		}
	}
}
