package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
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

// TestOptimHotSplit: right after a split product, while a worker spins,
// an update of W1's size (below the cold threshold) is split one block
// per thread, and gives the reference's bits. Whether a worker still
// spins depends on timing, so the test retries for a while before
// failing.
func TestOptimHotSplit(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS ≥ 2: a spinning worker would hold the only P")
	}
	setThreads(t, 2)
	r := rand.New(rand.NewPCG(45, 45))
	h := optHypers(r)[0]
	vr := optVariants[len(optVariants)-1]
	n := 784 * 100
	if got, _ := splitParts(n*optimMACsPerElem, ceilDiv(n, optimUnit), 2); got != 1 {
		t.Fatalf("W1's update splits cold into %d parts; this test is about the hot path", got)
	}
	a, b, c := make([]float32, 256*784), make([]float32, 784*100), make([]float32, 256*100)
	in := make([][]float32, len(vr.pos))
	for k := range in {
		in[k] = make([]float32, n)
		fillOpt(r, in[k], vr.pos[k], 50)
	}
	want := make([][]float32, len(in))
	for k := range in {
		want[k] = clone(in[k])
	}
	vr.ref(want, h)
	got := make([][]float32, len(in))
	deadline := time.Now().Add(10 * time.Second)
	for {
		for k := range in {
			got[k] = clone(in[k])
		}
		// The batch-256 forward product: split, and it leaves a worker
		// spinning for the update that follows at once.
		Sgemm(false, false, 256, 100, 784, 1, a, 784, b, 100, 0, c, 100)
		// The worker starts spinning a moment after its part (longer
		// under emulation): wait for it, as the trainer's next call
		// would find it.
		for t0 := time.Now(); workers.spinning.Load() == 0 && time.Since(t0) < 50*time.Millisecond; {
		}
		before := forkedParts.Load()
		vr.api(got, h)
		split := forkedParts.Load()-before == 2
		for k := range got {
			for i := range got[k] {
				if !sameBitsOrNaN(got[k][i], want[k][i]) {
					t.Fatalf("%s split %v: vector %d [%d] = %v, reference %v", vr.name, split, k, i, got[k][i], want[k][i])
				}
			}
		}
		if split {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %d elements was never split right after a split product", vr.name, n)
		}
	}
}
