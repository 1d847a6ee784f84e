package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/bench/internal/openblas"
	"github.com/simdmlp/simdmlp/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmShape is one Sgemm problem: op(A) is m×k, op(B) is k×n.
type gemmShape struct {
	m, n, k        int
	transA, transB bool
}

// name is the sub-benchmark name, m=..,n=..,k=.. with ",tA" or ",tB"
// when an operand is transposed (the same spelling as kernels' own
// benchmarks, so benchstat can set the two side by side).
func (s gemmShape) name() string {
	name := fmt.Sprintf("m=%d,n=%d,k=%d", s.m, s.n, s.k)
	if s.transA {
		name += ",tA"
	}
	if s.transB {
		name += ",tB"
	}
	return name
}

// flops counts a product as 2·m·n·k floating-point operations.
func (s gemmShape) flops() float64 { return 2 * float64(s.m) * float64(s.n) * float64(s.k) }

// stepShapes are the five products one training step of the tutorial's
// 784-100-10 model makes at batch 32, in the trainer's order (mlp's
// forward and backward passes): forward X·W1 and H·W2, then the weight
// gradients Hᵀ·dZ2 and the hidden gradient dZ2·W2ᵀ of the output layer,
// then the weight gradient Xᵀ·dZ1 of the hidden layer. The hidden layer
// has no input gradient: nothing consumes it.
var stepShapes = []gemmShape{
	{32, 100, 784, false, false},
	{32, 10, 100, false, false},
	{100, 10, 32, true, false},
	{32, 100, 10, false, true},
	{784, 100, 32, true, false},
}

// sgemmShapes are the step's products one by one, the input gradient a
// deeper model would need at the first layer (kept from the first version
// of this harness, so earlier results stay comparable), the three large
// products at batch 256 (the first two split over threads), then
// squares.
var sgemmShapes = append(append([]gemmShape(nil), stepShapes...),
	gemmShape{32, 784, 100, false, true},
	gemmShape{256, 100, 784, false, false},
	gemmShape{784, 100, 256, true, false},
	gemmShape{256, 784, 100, false, true},
	gemmShape{64, 64, 64, false, false},
	gemmShape{128, 128, 128, false, false},
	gemmShape{256, 256, 256, false, false},
	gemmShape{512, 512, 512, false, false},
	gemmShape{1024, 1024, 1024, false, false},
	gemmShape{2048, 2048, 2048, false, false},
)

// sgemmFunc has kernels.Sgemm's signature and semantics.
type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// contender is one GEMM implementation under comparison.
type contender struct {
	// name appears in benchmark names as impl=<name>.
	name string
	// use readies the implementation and returns its Sgemm and a function
	// that undoes the set-up.
	use func() (sgemmFunc, func(), error)
}

// peerContenders are the implementations that need more than Go: the
// files behind build tags (openblas_test.go) add to it in init.
var peerContenders []contender

// contenders lists every kernel level this CPU runs (slowest first, so
// whatever levels other packages add appear here by themselves), gonum's
// pure-Go BLAS through its public API with its defaults, then the peers
// this build links.
func contenders() []contender {
	var cs []contender
	for _, level := range kernels.Available() {
		cs = append(cs, contender{name: level, use: func() (sgemmFunc, func(), error) {
			restore, err := kernels.Use(level)
			return kernels.Sgemm, restore, err
		}})
	}
	cs = append(cs, contender{name: "gonum", use: func() (sgemmFunc, func(), error) {
		return gonumSgemm, func() {}, nil
	}})
	return append(cs, peerContenders...)
}

// BenchmarkSgemm runs C = A·B (beta = 0) for every contender, as
// BenchmarkSgemm/impl=<name>/m=..,n=..,k=..[,tA][,tB], then all five
// products of a training step back to back as
// BenchmarkSgemm/impl=<name>/step, on one thread; then the same on two
// threads as BenchmarkSgemm/impl=<name>/threads=2/..., for the kernel
// levels and OpenBLAS (skipped unless GOMAXPROCS ≥ 2). The one-thread
// names are those of the Python peers, so benchstat sets them side by
// side. GFLOP/s counts 2·m·n·k per product. Run the one-thread part with
// GOMAXPROCS=1 to compare single-core code: gonum, which has no thread
// setting, starts goroutines for large products.
func BenchmarkSgemm(b *testing.B) {
	for _, ct := range contenders() {
		b.Run("impl="+ct.name, func(b *testing.B) {
			sgemm, restore, err := ct.use()
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			undo, _ := setContenderThreads(ct.name, 1)
			benchSgemmShapes(b, sgemm)
			undo()
			b.Run("threads=2", func(b *testing.B) {
				if runtime.GOMAXPROCS(0) < 2 {
					b.Skipf("GOMAXPROCS=%d < 2 threads", runtime.GOMAXPROCS(0))
				}
				undo, ok := setContenderThreads(ct.name, 2)
				if !ok {
					b.Skipf("%s has no thread setting", ct.name)
				}
				defer undo()
				benchSgemmShapes(b, sgemm)
			})
		})
	}
}

// setContenderThreads sets the thread count of the named contender and
// returns what restores one thread, or false when the contender cannot
// be set to n threads. The kernel levels share kernels.SetThreads,
// OpenBLAS has its own pool; gonum runs as many goroutines as it likes.
func setContenderThreads(name string, n int) (undo func(), ok bool) {
	switch {
	case strings.HasPrefix(name, "openblas-"):
		if openblas.SetThreads(n) != n {
			openblas.SetThreads(1)
			return nil, false
		}
		return func() { openblas.SetThreads(1) }, true
	case slices.Contains(kernels.Available(), name):
		prev := kernels.SetThreads(n)
		return func() { kernels.SetThreads(prev) }, true
	}
	return func() {}, n == 1
}

// benchSgemmShapes runs every shape, then the step, with sgemm.
func benchSgemmShapes(b *testing.B, sgemm sgemmFunc) {
	for _, s := range sgemmShapes {
		b.Run(s.name(), func(b *testing.B) {
			p := newProblem(s, 1)
			p.run(sgemm) // warm-up: workspaces grow once
			b.ReportAllocs()
			for b.Loop() {
				p.run(sgemm)
			}
			b.ReportMetric(s.flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	b.Run("step", func(b *testing.B) {
		ps := make([]*problem, len(stepShapes))
		flops := 0.0
		for i, s := range stepShapes {
			ps[i] = newProblem(s, uint64(i))
			flops += s.flops()
			ps[i].run(sgemm)
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range ps {
				p.run(sgemm)
			}
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// problem holds one shape's operands, dense (each leading dimension is
// its row length), as the trainer lays them out.
type problem struct {
	gemmShape
	a, b, c       []float32
	lda, ldb, ldc int
}

// newProblem fills A, B and C with values uniform in [-1, 1) from a
// generator seeded by seed.
func newProblem(s gemmShape, seed uint64) *problem {
	r := rand.New(rand.NewPCG(seed, 2))
	p := &problem{gemmShape: s, lda: s.k, ldb: s.n, ldc: s.n}
	if s.transA {
		p.lda = s.m
	}
	if s.transB {
		p.ldb = s.k
	}
	p.a, p.b, p.c = randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
	return p
}

// run computes C = A·B with sgemm.
func (p *problem) run(sgemm sgemmFunc) {
	sgemm(p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, 0, p.c, p.ldc)
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
