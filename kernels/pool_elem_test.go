package kernels

import (
	"math"
	"testing"
)

// TestAllFiniteThreads puts one NaN or ±Inf at the edges and inside of
// every part, on every level and thread count, with every input split.
func TestAllFiniteThreads(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		splitEverything(t)
		for _, n := range []int{1, finiteUnit - 1, 3*finiteUnit + 17, 20 * finiteUnit} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i%97) - 48
			}
			positions := []int{0, n / 2, n - 1}
			for k := finiteUnit - 1; k < n; k += finiteUnit {
				positions = append(positions, k, min(k+1, n-1))
			}
			for _, th := range threadCounts {
				SetThreads(th)
				before := forkedParts.Load()
				if !AllFinite(x) {
					t.Fatalf("n=%d threads=%d: finite input reported non-finite", n, th)
				}
				if th > 1 && n > finiteUnit && forkedParts.Load() == before {
					t.Errorf("n=%d threads=%d: not split", n, th)
				}
				for _, p := range positions {
					for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
						old := x[p]
						x[p] = bad
						got := AllFinite(x)
						x[p] = old
						if got {
							t.Fatalf("n=%d threads=%d: %v at %d not found", n, th, bad, p)
						}
					}
				}
			}
		}
	})
}

func TestAllFiniteThreadsAllocs(t *testing.T) {
	setThreads(t, 2)
	x := make([]float32, 1<<20)
	before := forkedParts.Load()
	if n := testing.AllocsPerRun(10, func() { AllFinite(x) }); n != 0 {
		t.Errorf("AllFinite of %d elements with 2 threads: %v allocations per call", len(x), n)
	}
	if forkedParts.Load() == before {
		t.Errorf("AllFinite of %d elements with 2 threads was not split", len(x))
	}
}
