package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the unpacked small-matrix GEMM path (impl.smallGemm) on every
// level: the trainer's shapes and their neighbours, every column tail of
// the vector widths (n = 1..40 and 99..101 cover 0..3 vectors of 8 and 16
// plus a partial one), every panel height remainder (m = 1..33), padded
// leading dimensions with NaN in the padding, operands at odd offsets, and
// C between NaN guard cells. The comparison is gemmCase.check: a float64
// reference with the k·2⁻²⁴ rounding bound.

// smallGemmShapes returns the shapes the small path is tested on.
func smallGemmShapes() [][3]int {
	var s [][3]int
	// Every panel-height remainder against the column tails that matter.
	for m := 1; m <= 33; m++ {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 24, 25, 33, 47, 48, 49, 100} {
			s = append(s, [3]int{m, n, 1 + (m+n)%6})
		}
	}
	// Every column count up to 40, and 99..101, on a few heights.
	for n := 1; n <= 40; n++ {
		for _, m := range []int{1, 4, 5, 8, 9, 32} {
			s = append(s, [3]int{m, n, 3 + n%15})
		}
	}
	for _, n := range []int{99, 100, 101} {
		for _, m := range []int{1, 3, 8, 31, 32, 33} {
			s = append(s, [3]int{m, n, 10 + m})
		}
	}
	// The trainer's shapes (as m, n, k of op(A)·op(B)) and neighbours,
	// with k up to 800.
	for _, t := range [][3]int{{32, 100, 784}, {32, 10, 100}, {784, 100, 32}, {100, 10, 32}, {32, 100, 10}} {
		for _, d := range [][3]int{{0, 0, 0}, {1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}, {1, 1, 16}} {
			s = append(s, [3]int{t[0] + d[0], t[1] + d[1], t[2] + d[2]})
		}
	}
	for _, k := range []int{1, 2, 3, 15, 16, 17, 64, 255, 513, 800} {
		s = append(s, [3]int{9, 21, k})
	}
	// Short panels take wider column chunks (13 vectors of 8 for one row
	// on AVX2, 16 of 16 on AVX-512, 4 to 7 for two to six rows): each
	// chunk width, one column either side, and more than one chunk.
	for m := 1; m <= 9; m++ {
		for _, n := range []int{63, 64, 65, 79, 80, 81, 95, 96, 97, 103, 104, 105, 111, 112, 113,
			207, 208, 209, 255, 256, 257, 300, 513} {
			s = append(s, [3]int{m, n, 1 + (m+n)%5})
		}
	}
	s = append(s, [3]int{1, 100, 784}, [3]int{1, 257, 100}, [3]int{2, 100, 784}, [3]int{3, 113, 200})
	return s
}

var transCases = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

// shiftOperands moves A and B to offset 1 of fresh buffers (whose first
// element is NaN), so that the kernels see operands that are not
// vector-aligned. C already sits at an odd offset inside its guards.
func shiftOperands(g *gemmCase) {
	shift := func(s []float32) []float32 {
		if len(s) == 0 {
			return s
		}
		buf := make([]float32, len(s)+1)
		buf[0] = gemmNaN
		copy(buf[1:], s)
		return buf[1:]
	}
	g.a, g.b = shift(g.a), shift(g.b)
}

func TestSmallGemmShapes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		cs := 0
		for _, s := range smallGemmShapes() {
			for _, tr := range transCases {
				sc := gemmScalars[cs%len(gemmScalars)]
				if sc[0] == 0 {
					sc[0] = 0.75 // alpha == 0 never reaches the kernels
				}
				cs++
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], cs%4 != 0)
				if cs%2 == 0 {
					shiftOperands(gc)
				}
				a0, b0 := clone(gc.a), clone(gc.b)
				gc.run()
				gc.check(t)
				gemmSameBits(t, gc, "A", gc.a, a0)
				gemmSameBits(t, gc, "B", gc.b, b0)
			}
		}
	})
}

// TestSmallGemmTaken makes sure the shapes above reach the assembly: on a
// level with a small path, the trainer's five products must be taken by it
// (not handed to the packed driver), and called directly it must give the
// same results as through Sgemm.
func TestSmallGemmTaken(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		small := active.smallGemm
		if small == nil {
			t.Skip("no small-matrix path on this level")
		}
		r := rand.New(rand.NewPCG(23, 24))
		for _, s := range []struct {
			m, n, k        int
			transA, transB bool
		}{
			{32, 100, 784, false, false},
			{32, 10, 100, false, false},
			{784, 100, 32, true, false},
			{100, 10, 32, true, false},
			{32, 100, 10, false, true},
			{17, 33, 9, true, true},
		} {
			for _, sc := range [][2]float32{{1, 0}, {-0.5, 0.3}} {
				gc := newGemmCase(r, s.transA, s.transB, s.m, s.n, s.k, sc[0], sc[1], true)
				if !small(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, gc.c(), gc.ldc) {
					t.Fatalf("%v: the small path declined a trainer shape", gc)
				}
				gc.check(t)
			}
		}
	})
}

// TestSmallGemmBetaZeroNaN fills C with NaN and Inf: with beta == 0 it must
// not be read. It also covers alpha == 1 exactly (no scaling pass).
func TestSmallGemmBetaZeroNaN(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		for _, s := range [][3]int{{32, 100, 784}, {33, 101, 7}, {5, 10, 100}, {1, 1, 1}} {
			for _, tr := range transCases {
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], 1, 0, true)
				for i := range gc.m {
					for j := range gc.n {
						v := gemmNaN
						if (i+j)%2 == 1 {
							v = float32(math.Inf(1))
						}
						gc.cbuf[gc.coff+i*gc.ldc+j] = v
					}
				}
				gc.c0 = clone(gc.cbuf)
				gc.run()
				gc.check(t)
			}
		}
	})
}

func TestSmallGemmAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		for _, s := range [][3]int{{32, 100, 784}, {32, 10, 100}, {100, 10, 32}, {32, 100, 10}, {33, 17, 5}} {
			for _, tr := range transCases {
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], 0.5, 0.25, true)
				if n := testing.AllocsPerRun(5, gc.run); n != 0 {
					t.Errorf("%v: %v allocations per call", gc, n)
				}
			}
		}
	})
}

// TestSmallGemmRowsIndependent checks that a row of C has the same bits
// whether it is computed alone or inside a taller product: panels of
// every height, with their different chunk widths, sum in the same order.
// This is what makes one sample's prediction equal its row in a batch.
func TestSmallGemmRowsIndependent(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		for _, s := range [][2]int{{100, 784}, {10, 100}, {257, 33}, {113, 17}, {1, 5}} {
			const m = 37
			n, k := s[0], s[1]
			a, b := gemmRand(r, m*k), gemmRand(r, k*n)
			whole := make([]float32, m*n)
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, whole, n)
			for lo := 0; lo < m; {
				rows := 1 + (lo % 9)
				rows = min(rows, m-lo)
				part := make([]float32, rows*n)
				Sgemm(false, false, rows, n, k, 1, a[lo*k:], k, b, n, 0, part, n)
				if i := firstDiff(part, whole[lo*n:(lo+rows)*n]); i >= 0 {
					t.Fatalf("n=%d k=%d: rows %d..%d computed alone differ at row %d col %d: %v, in the whole %v",
						n, k, lo, lo+rows-1, lo+i/n, i%n, part[i], whole[lo*n+i])
				}
				lo += rows
			}
		}
	})
}
