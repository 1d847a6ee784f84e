package kernels

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// peakLevels lists the levels with a peak loop.
func peakLevels() []string {
	var out []string
	for _, l := range levels {
		if l.fmaPeak != nil {
			out = append(out, l.name)
		}
	}
	return out
}

func TestFMAPeakLoop(t *testing.T) {
	want := map[string]int64{"avx2": 2 * 8 * 14, "avx512": 2 * 16 * 28, "neon": 2 * 4 * 24}
	for _, level := range Available() {
		flops, err := FMAPeakLoop(strings.ToUpper(level), 1000)
		if level == "generic" {
			if err == nil || !strings.Contains(err.Error(), "no FMA peak loop") {
				t.Errorf("generic: %d, %v; want an error", flops, err)
			}
			continue
		}
		if err != nil || flops != 1000*want[level] {
			t.Errorf("%s: %d flops, %v; want %d", level, flops, err, 1000*want[level])
		}
		for _, n := range []int{0, -5} {
			if flops, err := FMAPeakLoop(level, n); flops != 0 || err != nil {
				t.Errorf("%s with %d rounds: %d, %v", level, n, flops, err)
			}
		}
	}
	if _, err := FMAPeakLoop("sse9", 1); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("unknown level: %v", err)
	}
}

// TestFMAPeakLevels: every vector level this build has brings its loop,
// so that the benchmarks and the gate never lack the reference.
func TestFMAPeakLevels(t *testing.T) {
	got := strings.Join(peakLevels(), ",")
	want := strings.Join(Available()[1:], ",")
	if got != want {
		t.Errorf("levels with a peak loop: %q, want every level but generic: %q", got, want)
	}
}

// peakRounds is one call's rounds: about 0.1 ms on the cores we know,
// long enough that starting goroutines costs nothing measurable.
const peakRounds = 1 << 16

// BenchmarkFMAPeak measures the peak GFLOP/s of each vector level on one
// core, as BenchmarkFMAPeak/impl=<level>/threads=1, and with GOMAXPROCS ≥ 2
// on two, as BenchmarkFMAPeak/impl=<level>/threads=2: the reference the gate and
// the epoch benchmarks divide by (bench/README.md).
func BenchmarkFMAPeak(b *testing.B) {
	for _, level := range peakLevels() {
		b.Run("impl="+level, func(b *testing.B) {
			b.Run("threads=1", func(b *testing.B) { benchPeak(b, level, 1) })
			b.Run("threads=2", func(b *testing.B) {
				if runtime.GOMAXPROCS(0) < 2 {
					b.Skipf("GOMAXPROCS=%d < 2 threads", runtime.GOMAXPROCS(0))
				}
				benchPeak(b, level, 2)
			})
		})
	}
}

// benchPeak runs the peak loop on threads goroutines at once. The helpers
// spin between calls rather than park: waking a parked goroutine takes
// about 0.1 ms here, as long as a call, and would halve the figure.
func benchPeak(b *testing.B, level string, threads int) {
	var start, finished atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range threads - 1 {
		wg.Go(func() {
			var seen int64
			for {
				s := start.Load()
				if s == seen {
					if stop.Load() {
						return
					}
					continue
				}
				seen = s
				FMAPeakLoop(level, peakRounds) //nolint:errcheck // the level has a loop
				finished.Add(1)
			}
		})
	}
	defer wg.Wait()
	defer stop.Store(true)
	var total int64
	for b.Loop() {
		want := finished.Load() + int64(threads-1)
		start.Add(1)
		n, err := FMAPeakLoop(level, peakRounds)
		if err != nil {
			b.Fatal(err)
		}
		for finished.Load() < want {
		}
		total += int64(threads) * n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func ExampleFMAPeakLoop() {
	flops, err := FMAPeakLoop("generic", 1000)
	fmt.Println(flops, err)
	// Output:
	// 0 kernels: level "generic" has no FMA peak loop (only the vector levels do)
}
