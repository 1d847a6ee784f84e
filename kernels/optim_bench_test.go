package kernels

import (
	"fmt"
	"strings"
	"testing"
)

// benchParams is the tutorial model's parameter count, 784·100 + 100 +
// 100·10 + 10, updated as one array: the optimizer steps are memory-bound
// and this is the size whose state (θ, g and up to three slots, about
// 1.6 MB) the trainer streams through once per batch.
const benchParams = 79510

// BenchmarkOptimSteps times every optimizer variant (each one selects its
// own assembly function) on every level:
//
//	GOMAXPROCS=1 go test -run '^$' -bench 'OptimSteps|OptimReductions' -count 5 ./kernels | benchstat -col /impl -
//
// Names read BenchmarkOptimSteps/impl=avx2/Adam,amsgrad=false/n=79510.
// SetBytes counts each array read or written once.
func BenchmarkOptimSteps(b *testing.B) {
	h := optHyper{0.001, 0.9, 1e-7, 0.1, 0.9}
	forEachBenchLevel(b, func(b *testing.B) {
		for _, vr := range optVariants {
			n := benchParams
			// θ, slots and g as the trainer has them: small weights, a
			// fixed small gradient, non-negative accumulators. Each call
			// steps the same state on; it stays finite.
			v := make([][]float32, len(vr.pos))
			for k := range v {
				v[k] = benchVec(n+k, 0.1)[:n]
				if vr.pos[k] {
					for i := range v[k] {
						v[k][i] *= v[k][i]
					}
				}
			}
			for i := range v[len(v)-1] {
				v[len(v)-1][i] *= 1e-2
			}
			name := strings.ReplaceAll(vr.name, "/", ",")
			runBench(b, fmt.Sprintf("%s/n=%d", name, n), n, len(v), func() { vr.api(v, h) })
		}
	})
}

// BenchmarkOptimReductions times the vector utilities over the same
// parameter count, and ColSum on the tutorial's two bias gradients.
func BenchmarkOptimReductions(b *testing.B) {
	n := benchParams
	x := benchVec(n, 1)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("SumSquares/n=%d", n), n, 1, func() { SumSquares(x) })
		runBench(b, fmt.Sprintf("Scale/n=%d", n), n, 1, func() { Scale(x, 1) })
		runBench(b, fmt.Sprintf("Clamp/n=%d", n), n, 1, func() { Clamp(x, -5, 5) })
		runBench(b, fmt.Sprintf("AllFinite/n=%d", n), n, 1, func() { AllFinite(x) })
		for _, sh := range [][2]int{{benchRows, benchHidden}, {benchRows, benchClasses}, {128, 784}} {
			rows, cols := sh[0], sh[1]
			m, dst := benchVec(rows*cols, 1), make([]float32, cols)
			runBench(b, fmt.Sprintf("ColSum/%dx%d", rows, cols), rows*cols, 1, func() { ColSum(dst, m, rows, cols) })
		}
	})
}
