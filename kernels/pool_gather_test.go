package kernels

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestGatherRows(t *testing.T) {
	splitEverything(t)
	r := rand.New(rand.NewPCG(51, 52))
	for _, threads := range threadCounts {
		setThreads(t, threads)
		for _, s := range [][2]int{{0, 3}, {1, 1}, {5, 7}, {33, 784}, {256, 784}, {300, 13}} {
			n, cols := s[0], s[1]
			src := gemmRand(r, 400*cols)
			idx := make([]int, n)
			for k := range idx {
				idx[k] = r.IntN(400)
			}
			// One spare row of guard cells after the gathered rows.
			dst := make([]float32, (n+1)*cols)
			for i := range dst {
				dst[i] = gemmNaN
			}
			before := forkedParts.Load()
			GatherRows(dst, src, cols, idx)
			for k, i := range idx {
				if d := firstDiff(dst[k*cols:(k+1)*cols], src[i*cols:(i+1)*cols]); d >= 0 {
					t.Fatalf("threads=%d n=%d cols=%d: row %d differs from src row %d at column %d", threads, n, cols, k, i, d)
				}
			}
			for i, v := range dst[n*cols:] {
				if v == v {
					t.Fatalf("threads=%d n=%d cols=%d: guard cell %d past the rows written: %v", threads, n, cols, i, v)
				}
			}
			if threads > 1 && n >= 2 && forkedParts.Load() == before {
				t.Errorf("threads=%d n=%d cols=%d: not split", threads, n, cols)
			}
		}
	}
}

func TestGatherRowsPanics(t *testing.T) {
	src := make([]float32, 10*4)
	dst := make([]float32, 3*4)
	for i := range dst {
		dst[i] = 7
	}
	for _, c := range []struct {
		dst  []float32
		cols int
		idx  []int
		want string
	}{
		{dst, 0, []int{0}, "cols = 0"},
		{dst[:11], 4, []int{0, 1, 2}, "len(dst) = 11"},
		{dst, 4, []int{0, 10, 1}, "idx[1] = 10"},
		{dst, 4, []int{2, 3, -1}, "idx[2] = -1"},
	} {
		msg := mustPanic(func() { GatherRows(c.dst, src, c.cols, c.idx) })
		if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "kernels: GatherRows: ") {
			t.Errorf("cols=%d idx=%v: panic %q, want one naming %q", c.cols, c.idx, msg, c.want)
		}
	}
	for i, v := range dst {
		if v != 7 {
			t.Fatalf("a rejected call wrote dst[%d] = %v", i, v)
		}
	}
}

func TestGatherRowsAllocs(t *testing.T) {
	setThreads(t, 2)
	r := rand.New(rand.NewPCG(53, 54))
	src := gemmRand(r, 4096*784)
	idx := make([]int, 256)
	for k := range idx {
		idx[k] = r.IntN(4096)
	}
	dst := make([]float32, 256*784)
	before := forkedParts.Load()
	if n := testing.AllocsPerRun(10, func() { GatherRows(dst, src, 784, idx) }); n != 0 {
		t.Errorf("GatherRows of 256 rows with 2 threads: %v allocations per call", n)
	}
	if forkedParts.Load() == before {
		t.Error("GatherRows of 256 rows of 784 with 2 threads was not split")
	}
}
