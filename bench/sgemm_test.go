package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmShapes are the products of one training step of the tutorial's
// 784-100-10 model at batch 32, with the transpositions the trainer uses
// (forward X·W, weight gradient Xᵀ·dY, input gradient dY·Wᵀ, for both
// layers), then squares.
var sgemmShapes = []struct {
	m, n, k        int
	transA, transB bool
}{
	{32, 100, 784, false, false},
	{784, 100, 32, true, false},
	{32, 784, 100, false, true},
	{32, 10, 100, false, false},
	{100, 10, 32, true, false},
	{32, 100, 10, false, true},
	{64, 64, 64, false, false},
	{128, 128, 128, false, false},
	{256, 256, 256, false, false},
	{512, 512, 512, false, false},
}

// sgemmImpls are the contenders: every kernel level this CPU runs, then
// gonum's pure-Go BLAS through its public API with its defaults.
func sgemmImpls() []string {
	return append(kernels.Available(), "gonum")
}

// BenchmarkSgemm runs C = A·B (beta = 0) for every implementation and
// shape, as BenchmarkSgemm/impl=<name>/m=..,n=..,k=..[,tA][,tB], reporting
// GFLOP/s counted as 2·m·n·k per call. Run it with GOMAXPROCS=1 to compare
// single-core code: gonum's Sgemm starts goroutines for large products.
func BenchmarkSgemm(b *testing.B) {
	for _, impl := range sgemmImpls() {
		b.Run("impl="+impl, func(b *testing.B) {
			sgemm := gonumSgemm
			if impl != "gonum" {
				restore, err := kernels.Use(impl)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				sgemm = kernels.Sgemm
			}
			for _, s := range sgemmShapes {
				name := fmt.Sprintf("m=%d,n=%d,k=%d", s.m, s.n, s.k)
				if s.transA {
					name += ",tA"
				}
				if s.transB {
					name += ",tB"
				}
				b.Run(name, func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					a, bm, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
					lda, ldb := s.k, s.n
					if s.transA {
						lda = s.m
					}
					if s.transB {
						ldb = s.k
					}
					b.ReportAllocs()
					for b.Loop() {
						sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}

// gonumSgemm calls gonum.Implementation.Sgemm with our argument order.
func gonumSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// randSlice returns n values uniform in [-1, 1): dense data, so gonum's
// skipping of zero elements of A never helps it.
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}
