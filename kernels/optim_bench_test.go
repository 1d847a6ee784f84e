package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// BenchmarkOptimDecay times the optimizer variants whose slots decay on
// the state a zero gradient leaves behind (a dead ReLU unit, an input
// pixel that is 0 in every batch), over the tutorial's first weight
// matrix, 784·100 elements:
//
//	GOMAXPROCS=1 go test -run '^$' -bench 'OptimDecay' -count 6 ./kernels | benchstat -col /impl -
//
// state=subnormal starts every slot as a subnormal of random magnitude and
// sign (sums of squares positive) and steps it on with g = ±0: without the
// flush of decaying slots (see SGDParams) it stays subnormal, since
// rounding stops the decay a few ulps above zero, and every product with
// it takes a microcode assist on AMD cores; with it the first step stores
// +0. state=nearmin starts the slots between 2⁻¹²⁶ and 2⁻¹¹⁶: normal
// values whose products with 1−β2 = 0.001 (Adam's v), 1−β1 or the rate are
// subnormal. It is the window a decaying slot crosses on its way down (for
// Adam's v about 6 900 steps); while the flush began at 2⁻¹²⁶ it cost
// Adam 4× (avx512, 54.5 against 13.4 µs) and 5.7× (avx2), and since it
// begins at 2⁻⁹⁵ the first step stores +0 here too, so this case guards
// that the window stays closed. Its state is restored every 256 steps,
// with the timer stopped.
func BenchmarkOptimDecay(b *testing.B) {
	const n = 784 * 100
	h := optHyper{0.001, 0.9, 1e-7, 0.1, 0.9}
	hAdam := optHyper{0.001, 0.9, 1e-7, 0.1, 0.001} // Adam's mu is 1−β2
	forEachBenchLevel(b, func(b *testing.B) {
		for _, vr := range optVariants {
			if !hasFlushed(vr) {
				continue
			}
			hv := h
			if strings.HasPrefix(vr.name, "Adam/") {
				hv = hAdam
			}
			name := strings.ReplaceAll(vr.name, "/", ",")
			for _, state := range []string{"subnormal", "nearmin"} {
				r := rand.New(rand.NewPCG(uint64(len(vr.name)), 41))
				v := make([][]float32, len(vr.pos))
				for k := range v {
					v[k] = make([]float32, n)
					for i := range v[k] {
						var x float32
						switch {
						case k == 0:
							x = float32(r.NormFloat64() * 0.05)
						case k == len(v)-1:
							x = float32(math.Copysign(0, float64(i%2)-0.5))
						case state == "subnormal":
							x = math.Float32frombits(1 + r.Uint32N(0x007fffff))
						default:
							x = float32(0x1p-126 * math.Pow(2, 10*r.Float64()))
						}
						if k > 0 && k < len(v)-1 && !vr.pos[k] && r.IntN(2) == 0 {
							x = -x
						}
						v[k][i] = x
					}
				}
				start := make([][]float32, len(v))
				for k := range v {
					start[k] = clone(v[k])
				}
				b.Run(fmt.Sprintf("%s/state=%s/n=%d", name, state, n), func(b *testing.B) {
					b.SetBytes(int64(4 * n * len(v)))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						if state == "nearmin" && i%256 == 0 {
							b.StopTimer()
							for k := range v {
								copy(v[k], start[k])
							}
							b.StartTimer()
						}
						vr.api(v, hv)
					}
				})
			}
		}
	})
}

// BenchmarkOptimThreads times Adam and RMSprop on the active level over
// one and two threads, at the tutorial's parameter count (never split)
// and at the sizes of larger layers (784·512 and 2²²), which AdamStep and
// its siblings split into blocks of elements over the kernels' threads:
//
//	GOMAXPROCS=2 go test -run '^$' -bench OptimThreads -count 5 ./kernels
func BenchmarkOptimThreads(b *testing.B) {
	h := optHyper{0.001, 0.9, 1e-7, 0.1, 0.9}
	for _, vr := range optVariants {
		if vr.name != "Adam/amsgrad=false" && vr.name != "RMSprop/momentum=false/centered=false" {
			continue
		}
		for _, n := range []int{benchParams, 784 * 512, 1 << 22} {
			v := make([][]float32, len(vr.pos))
			for k := range v {
				v[k] = benchVec(n+k, 0.1)[:n]
				if vr.pos[k] {
					for i := range v[k] {
						v[k][i] *= v[k][i]
					}
				}
			}
			for _, threads := range []int{1, 2} {
				name := strings.ReplaceAll(vr.name, "/", ",")
				b.Run(fmt.Sprintf("%s/n=%d/threads=%d", name, n, threads), func(b *testing.B) {
					defer SetThreads(SetThreads(threads))
					b.SetBytes(int64(4 * n * len(v)))
					for b.Loop() {
						vr.api(v, h)
					}
				})
			}
		}
	}
}
