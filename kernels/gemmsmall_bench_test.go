//go:build (amd64 || arm64) && gc && !purego

package kernels

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// trainerGemms are the five products of one training step of the
// tutorial's 784-100-10 model at batch 32 (mlp/step.go): the two forward
// products, the two weight gradients (Aᵀ) and the hidden layer's input
// gradient (Bᵀ).
var trainerGemms = []struct {
	name           string
	m, n, k        int
	transA, transB bool
}{
	{"fwd1", 32, 100, 784, false, false},
	{"fwd2", 32, 10, 100, false, false},
	{"dW1", 784, 100, 32, true, false},
	{"dW2", 100, 10, 32, true, false},
	{"dA1", 32, 100, 10, false, true},
}

// gemmOperands allocates A, B and C for one product with tight leading
// dimensions.
type gemmOperands struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

func newGemmOperands(r *rand.Rand, m, n, k int, transA, transB bool) gemmOperands {
	o := gemmOperands{a: gemmRand(r, m*k), b: gemmRand(r, k*n), c: gemmRand(r, m*n), lda: k, ldb: n, ldc: n}
	if transA {
		o.lda = m
	}
	if transB {
		o.ldb = k
	}
	return o
}

// singleCore runs the benchmark body on one core, as the goals are stated.
func singleCore(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

func useLevel(b *testing.B, level string) {
	restore, err := Use(level)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(restore)
}

// BenchmarkGemmSmall times the trainer's products through Sgemm on each
// level, one at a time and all five of a step together, on one core.
func BenchmarkGemmSmall(b *testing.B) {
	for _, level := range Available() {
		b.Run("impl="+level, func(b *testing.B) {
			useLevel(b, level)
			singleCore(b)
			r := rand.New(rand.NewPCG(1, 2))
			ops := make([]gemmOperands, len(trainerGemms))
			flops := 0.0
			for i, s := range trainerGemms {
				ops[i] = newGemmOperands(r, s.m, s.n, s.k, s.transA, s.transB)
				flops += 2 * float64(s.m*s.n*s.k)
			}
			for i, s := range trainerGemms {
				b.Run(s.name+"/"+gemmShapeName(s.m, s.n, s.k, s.transA, s.transB), func(b *testing.B) {
					o := &ops[i]
					b.ReportAllocs()
					for b.Loop() {
						Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
			b.Run("step", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for i, s := range trainerGemms {
						o := &ops[i]
						Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

// BenchmarkDenseForward times the tutorial's two forward layers fused
// (DenseForward) against the two-pass Sgemm then BiasActivation.
func BenchmarkDenseForward(b *testing.B) {
	layers := []struct {
		name    string
		act     Activation
		m, n, k int
	}{
		{"hidden", ActReLU, 32, 100, 784},
		{"output", ActSoftmax, 32, 10, 100},
		{"output-linear", ActLinear, 32, 10, 100},
		// One sample, the serving case.
		{"hidden-one", ActReLU, 1, 100, 784},
		{"output-one", ActSoftmax, 1, 10, 100},
	}
	for _, level := range Available() {
		b.Run("impl="+level, func(b *testing.B) {
			useLevel(b, level)
			singleCore(b)
			for _, l := range layers {
				r := rand.New(rand.NewPCG(3, 4))
				x, w, bias, y := gemmRand(r, l.m*l.k), gemmRand(r, l.k*l.n), gemmRand(r, l.n), gemmRand(r, l.m*l.n)
				b.Run(l.name+"/fused", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						DenseForward(l.act, l.m, l.n, l.k, x, l.k, w, l.n, bias, y, l.n)
					}
				})
				b.Run(l.name+"/two-pass", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						Sgemm(false, false, l.m, l.n, l.k, 1, x, l.k, w, l.n, 0, y, l.n)
						BiasActivation(l.act, y, bias, l.m, l.n)
					}
				})
			}
		})
	}
}

// BenchmarkGemmSmallCrossover runs the unpacked kernels without their
// size limits beside the packed driver of the same level, on one core, to
// place the limits in gemmsmall_amd64.go and gemmsmall_arm64.go.
func BenchmarkGemmSmallCrossover(b *testing.B) {
	shapes := []struct {
		m, n, k        int
		transA, transB bool
	}{
		{32, 100, 784, false, false}, {784, 100, 32, true, false}, {32, 784, 100, false, true},
		{32, 100, 10, false, true}, {32, 300, 300, false, true},
		{256, 100, 784, false, false}, {784, 100, 256, true, false}, {256, 784, 100, false, true},
		{64, 64, 64, false, false}, {128, 128, 128, false, false}, {192, 192, 192, false, false},
		{256, 256, 256, false, false}, {384, 384, 384, false, false}, {512, 512, 512, false, false},
		{32, 1024, 1024, false, false}, {1024, 32, 1024, false, false}, {1024, 1024, 32, true, false},
	}
	for _, lv := range smallSets {
		b.Run("impl="+lv.name, func(b *testing.B) {
			restore, err := Use(lv.name)
			if err != nil {
				b.Skip(err)
			}
			b.Cleanup(restore)
			singleCore(b)
			for _, s := range shapes {
				r := rand.New(rand.NewPCG(5, 6))
				o := newGemmOperands(r, s.m, s.n, s.k, s.transA, s.transB)
				name := gemmShapeName(s.m, s.n, s.k, s.transA, s.transB)
				gflops := func(b *testing.B) {
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				}
				b.Run(name+"/path=small", func(b *testing.B) {
					for b.Loop() {
						lv.small.mul(s.transA, s.transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
					}
					gflops(b)
				})
				b.Run(name+"/path=packed", func(b *testing.B) {
					for b.Loop() {
						gemm(&active.sgemm, s.transA, s.transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
					}
					gflops(b)
				})
			}
		})
	}
}
