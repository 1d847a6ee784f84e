//go:build gc && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSmallTNColsBits holds the column-tail kernels of the AVX2 and
// AVX-512 levels (SgemmSmallTNCols<t>, taken by runRows for a plain Aᵀ·B
// whose last vector has 1 to 4 live columns) to the bits of the same product computed
// without them, by panelRows over the full width: every element must be
// the same chain of FMAs, so that a row's bits do not depend on how the
// rows were split over threads. (The float64 bound against the generic
// level is TestSmallGemmShapes'.) Shapes cover
// every tail t = 1..16 (only 1..4 take the kernels), rows from 16 to 800
// with remainders of 16 and of the 64-row tile, k from 1, padded leading
// dimensions with NaN in the padding, A and B at odd offsets, and C
// between NaN cells that must stay untouched.
func TestSmallTNColsBits(t *testing.T) {
	for _, lv := range []struct {
		name string
		s    *smallLevel
	}{{"avx2", smallAVX2}, {"avx512", smallAVX512}} {
		t.Run(lv.name, func(t *testing.T) {
			if !slices.Contains(Available(), lv.name) {
				t.Skipf("no %s level on this CPU", lv.name)
			}
			testTNColsBits(t, lv.s)
		})
	}
}

func testTNColsBits(t *testing.T, s *smallLevel) {
	r := rand.New(rand.NewPCG(71, 72))
	nan := float32(math.NaN())
	taken := 0
	for _, m := range []int{15, 16, 17, 31, 32, 48, 63, 64, 65, 80, 127, 128, 144, 784, 785, 800} {
		for _, n := range []int{1, 2, 3, 4, 5, 15, 16, 17, 18, 19, 20, 21, 33, 36, 52, 100, 101, 116} {
			for _, k := range []int{1, 2, 7, 32, 33} {
				lda, ldb, ldc := m+r.IntN(3), n+r.IntN(3), n+r.IntN(3)
				fill := func(rows, cols, ld int) []float32 {
					buf := make([]float32, 1+rows*ld)
					for i := range buf {
						buf[i] = nan
					}
					x := buf[1:]
					for i := range rows {
						for j := range cols {
							x[i*ld+j] = float32(r.NormFloat64())
						}
					}
					return x
				}
				a, b := fill(k, m, lda), fill(k, n, ldb)
				c := func() []float32 {
					buf := make([]float32, 2+m*ldc)
					for i := range buf {
						buf[i] = nan
					}
					return buf
				}
				want, got := c(), c()
				s.panelRows(true, m, n, k, 1, a, lda, b, ldb, 0, want[1:len(want)-1], ldc, nil, 0)
				if s.colsTail(true, m, n, 0) > 0 {
					taken++
				}
				s.runRows(true, m, n, k, 1, a, lda, b, ldb, 0, got[1:len(got)-1], ldc, nil, 0)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m=%d n=%d k=%d lda=%d ldb=%d ldc=%d: C cell %d (row %d, column %d) = %v, without the column kernels %v",
							m, n, k, lda, ldb, ldc, i-1, (i-1)/ldc, (i-1)%ldc, got[i], want[i])
					}
				}
			}
		}
	}
	if taken == 0 {
		t.Fatal("no shape took the column kernels")
	}
	t.Logf("%d problems took the column kernels", taken)
}
