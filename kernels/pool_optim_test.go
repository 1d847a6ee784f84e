package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOptimThreadsBitIdentical runs every optimizer variant split over
// every thread count in threadCounts, with the split threshold lowered so
// that the blocks' edges fall everywhere a length allows, on every level,
// and holds the results to the reference bit for bit, guard cells
// included: the split must change nothing but who computes which block.
func TestOptimThreadsBitIdentical(t *testing.T) {
	splitEverything(t)
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 41))
		h := optHypers(r)[0]
		for _, threads := range threadCounts {
			setThreads(t, threads)
			for _, n := range []int{1, 15, 16, 17, 33, 100, 1000 + r.IntN(3000), 79510} {
				for _, vr := range optVariants {
					t.Run(fmt.Sprintf("threads=%d/n=%d/%s", threads, n, vr.name), func(t *testing.T) {
						before := forkedParts.Load()
						runOptVariant(t, vr, n, h, func(k int, v []float32) { fillOpt(r, v, vr.pos[k], 50) })
						split := forkedParts.Load() > before
						if want := threads > 1 && n > optimUnit; split != want {
							t.Errorf("split over threads: %v, want %v", split, want)
						}
					})
				}
			}
		}
	})
}

// TestOptimSplitParts pins where the optimizer steps start to use a
// second core: not for the tutorial's 79510 parameters, whose pass takes
// about as long as a hand-off between cores costs in cache traffic, but
// for a layer of 784·512 weights.
func TestOptimSplitParts(t *testing.T) {
	setThreads(t, 2)
	for _, c := range []struct {
		n, want int
	}{{79510, 1}, {784 * 100, 1}, {784 * 512, 2}, {1 << 22, 4}} {
		if got, _ := splitParts(c.n*optimMACsPerElem, ceilDiv(c.n, optimUnit), 2); got != c.want {
			t.Errorf("an optimizer step of %d elements splits into %d parts on 2 threads, want %d", c.n, got, c.want)
		}
	}
}

// TestOptimThreadsAllocs checks that a split optimizer step allocates
// nothing once warm.
func TestOptimThreadsAllocs(t *testing.T) {
	splitEverything(t)
	setThreads(t, 2)
	r := rand.New(rand.NewPCG(43, 43))
	h := optHypers(r)[0]
	vecs := make([][]float32, 5)
	for k := range vecs {
		vecs[k] = make([]float32, 4096)
		fillOpt(r, vecs[k], true, 0)
	}
	for _, vr := range optVariants {
		if a := testing.AllocsPerRun(20, func() { vr.api(vecs, h) }); a != 0 {
			t.Errorf("%s split over 2 threads: %v allocations per call", vr.name, a)
		}
	}
}
