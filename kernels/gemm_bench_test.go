package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchGemmShapes are the products one training step of the tutorial's
// 784-100-10 model at batch 32 computes (forward X·W, weight gradient
// Xᵀ·dY, input gradient dY·Wᵀ, for both layers), the large ones at batch
// 256, then squares. The same
// list lives in bench/, where gonum runs beside us.
var benchGemmShapes = []struct {
	m, n, k        int
	transA, transB bool
}{
	{32, 100, 784, false, false},
	{784, 100, 32, true, false},
	{32, 784, 100, false, true},
	{32, 10, 100, false, false},
	{100, 10, 32, true, false},
	{32, 100, 10, false, true},
	{256, 100, 784, false, false},
	{784, 100, 256, true, false},
	{256, 784, 100, false, true},
	{64, 64, 64, false, false},
	{128, 128, 128, false, false},
	{256, 256, 256, false, false},
	{512, 512, 512, false, false},
	{1024, 1024, 1024, false, false},
	{2048, 2048, 2048, false, false},
}

// gemmShapeName names a shape as m=..,n=..,k=.., with ",tA" or ",tB"
// appended when an operand is transposed.
func gemmShapeName(m, n, k int, transA, transB bool) string {
	s := fmt.Sprintf("m=%d,n=%d,k=%d", m, n, k)
	if transA {
		s += ",tA"
	}
	if transB {
		s += ",tB"
	}
	return s
}

// BenchmarkSgemm runs every shape on every level on one thread, as
// BenchmarkSgemm/impl=<level>/m=..., then on two threads as
// BenchmarkSgemm/impl=<level>/threads=2/m=... The threads=2 figures
// need GOMAXPROCS ≥ 2 (they are skipped otherwise, as under `make
// bench`, which pins GOMAXPROCS=1).
func BenchmarkSgemm(b *testing.B) {
	for _, level := range Available() {
		b.Run("impl="+level, func(b *testing.B) {
			restore, err := Use(level)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			shapes := func(b *testing.B, threads int) {
				defer SetThreads(SetThreads(threads))
				for _, s := range benchGemmShapes {
					b.Run(gemmShapeName(s.m, s.n, s.k, s.transA, s.transB), func(b *testing.B) {
						benchSgemm(b, s.m, s.n, s.k, s.transA, s.transB)
					})
				}
			}
			shapes(b, 1)
			b.Run("threads=2", func(b *testing.B) {
				if runtime.GOMAXPROCS(0) < 2 {
					b.Skipf("GOMAXPROCS=%d < 2 threads", runtime.GOMAXPROCS(0))
				}
				shapes(b, 2)
			})
		})
	}
}

func benchSgemm(b *testing.B, m, n, k int, transA, transB bool) {
	r := rand.New(rand.NewPCG(1, 2))
	a := gemmRand(r, m*k)
	bm := gemmRand(r, k*n)
	c := gemmRand(r, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	b.ReportAllocs()
	took := workersTook.Load()
	for b.Loop() {
		Sgemm(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if Threads() > 1 {
		// Below 1 on a split shape, some calls found no worker to hand a
		// part to and ran every part on the caller.
		b.ReportMetric(float64(workersTook.Load()-took)/float64(b.N), "helpers/op")
	}
}

func gemmRand(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// BenchmarkPack copies the packed panels of a batch-256 weight gradient
// (Xᵀ·dZ with X 256×784: each k step of op(A)'s panel is a contiguous
// run of a row of X) for each panel width the levels use: MR 6 (AVX2), 8
// (NEON) and 12 (AVX-512) for A, NR 12 (NEON), 14, 16 (AVX2) and 32
// (AVX-512) for B. It reports nanoseconds per run copied.
func BenchmarkPack(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, cols = 256, 784
	src := gemmRand(r, rows*cols)
	dst := make([]float32, rows*cols)
	for _, width := range []int{6, 8, 12, 14, 16, 32} {
		b.Run(fmt.Sprintf("width=%d", width), func(b *testing.B) {
			panels := cols / width
			for b.Loop() {
				for j := range panels {
					packRuns(dst[j*width*rows:], src[j*width:], cols, width, width, rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(panels*rows), "ns/run")
		})
	}
}
