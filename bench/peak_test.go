package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// The epoch benchmarks report, beside their time, the share of the
// machine's FMA peak they reach (unit peak-fraction, which bench/cmd/gate
// gates): the GEMM flops of an epoch over its time over the peak that
// kernels.FMAPeakLoop measures for the active level, in the same process,
// on as many goroutines at once as the benchmark's kernel threads. The
// peak loop is nothing but independent fused multiply-adds on the level's
// widest vectors, so no change to the kernels can move it: the fraction
// moves only with the code under test, and a machine that is slower or
// busier as a whole slows the peak with the epoch.

// peakKey identifies one measured peak.
type peakKey struct {
	level   string
	threads int
}

// peakCache holds each peak measured in this process, 0 for a level
// without a peak loop.
var peakCache struct {
	sync.Mutex
	gflops map[peakKey]float64
}

// Peak measurement: peakReps runs of about peakRunTime each, the fastest
// kept. Interference from other work only ever slows the loop, and the
// best of five 20 ms runs repeated within 1% here, where one run moved by
// several percent.
const (
	peakReps    = 5
	peakRunTime = 20 * time.Millisecond
)

// fmaPeak returns the FMA peak in GFLOP/s of level on threads goroutines
// at once, measured the first time a level and thread count are asked for
// and cached for the life of the process, and false for a level without a
// peak loop (generic). threads above GOMAXPROCS would only measure the
// scheduler; the callers skip such cases before.
func fmaPeak(tb testing.TB, level string, threads int) (float64, bool) {
	tb.Helper()
	peakCache.Lock()
	defer peakCache.Unlock()
	k := peakKey{level, threads}
	if g, ok := peakCache.gflops[k]; ok {
		return g, g > 0
	}
	if peakCache.gflops == nil {
		peakCache.gflops = map[peakKey]float64{}
	}
	if _, err := kernels.FMAPeakLoop(level, 0); err != nil {
		peakCache.gflops[k] = 0
		return 0, false
	}
	// Size one run from a short calibration, itself warmed once.
	const probe = 1 << 14
	kernels.FMAPeakLoop(level, probe) //nolint:errcheck // checked above
	start := time.Now()
	kernels.FMAPeakLoop(level, probe) //nolint:errcheck // checked above
	iters := max(int(float64(probe)*float64(peakRunTime)/float64(max(time.Since(start), 1))), probe)
	best := 0.0
	for range peakReps {
		flops, d := runPeak(level, threads, iters)
		best = max(best, float64(flops)/d.Seconds()/1e9)
	}
	peakCache.gflops[k] = best
	return best, true
}

// runPeak runs the peak loop for iters rounds on threads goroutines at
// once and returns the flops done and the wall time from the start signal
// to the last one's end. The helpers are started first and spin on the
// signal, so that waking a parked goroutine (about 0.1 ms here) is not
// timed.
func runPeak(level string, threads, iters int) (int64, time.Duration) {
	var ready, done atomic.Int64
	var started atomic.Bool
	for range threads - 1 {
		ready.Add(1)
		go func() {
			ready.Add(-1)
			for !started.Load() {
			}
			kernels.FMAPeakLoop(level, iters) //nolint:errcheck // the caller checked the level
			done.Add(1)
		}()
	}
	for ready.Load() > 0 {
	}
	start := time.Now()
	started.Store(true)
	flops, _ := kernels.FMAPeakLoop(level, iters)
	for done.Load() < int64(threads-1) {
	}
	return int64(threads) * flops, time.Since(start)
}

// denseShapes returns the (in, units) of each Dense layer of a built
// model, from its kernels' shapes.
func denseShapes(m *mlp.Sequential) [][2]int {
	var s [][2]int
	for _, w := range m.WeightShapes() {
		if len(w) == 2 {
			s = append(s, [2]int{w[0], w[1]})
		}
	}
	return s
}

// trainFLOPs is the GEMM work of training on samples samples (in any
// batches: every product is linear in the batch) of a model of Dense
// layers of the given (in, units): per sample and layer, 2·in·units for
// the forward product, as much for the weight gradient, and as much again
// for the input gradient of every layer but the first, which the trainer
// does not compute. The tutorial's model at 48000 samples: 15.34 GFLOP.
// The bias, activation, loss and optimizer work is not counted: it is a
// few per cent of the flops, and none of it runs on the FMA units' peak.
func trainFLOPs(layers [][2]int, samples int) float64 {
	var perSample float64
	for i, l := range layers {
		macs := float64(l[0]) * float64(l[1])
		perSample += 2 * 2 * macs
		if i > 0 {
			perSample += 2 * macs
		}
	}
	return perSample * float64(samples)
}

// reportPeakFraction reports, as peak-fraction, flops done per op over
// the time per op over the FMA peak of the active level on the kernels'
// thread count. It reports nothing on a level without a peak loop.
func reportPeakFraction(b *testing.B, flops float64) {
	b.Helper()
	peak, ok := fmaPeak(b, kernels.Active(), min(kernels.Threads(), runtime.GOMAXPROCS(0)))
	if !ok || b.N == 0 {
		return
	}
	secPerOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(flops/secPerOp/(peak*1e9), "peak-fraction")
}
