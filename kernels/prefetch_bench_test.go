package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// The gather benchmark's data: the trainer's case, rows of 784 float32
// (a Fashion-MNIST image) picked at random from 48000 of them, 150 MB,
// far beyond the caches.
const (
	prefetchRowsN = 48000
	prefetchCols  = 784
)

var prefetchData = sync.OnceValues(func() ([]float32, []int) {
	// Every page written: a page never written reads as the one shared
	// zero page, which would be as hot as the cache.
	src := make([]float32, prefetchRowsN*prefetchCols)
	for i := range src {
		src[i] = float32(i & 1023)
	}
	return src, rand.New(rand.NewPCG(61, 62)).Perm(prefetchRowsN)
})

// BenchmarkGatherPrefetch times GatherRows of a batch of random rows of a
// 150 MB array, as Fit's step draws them, with and without a
// PrefetchRows of the same rows issued 20 µs earlier (the time stands
// in for a step's computation, which touches no memory here):
//
//	go test -run '^$' -bench GatherPrefetch -count 6 ./kernels/
//
// Names read BenchmarkGatherPrefetch/impl=avx512/rows=32/prefetch=ahead.
// ns/gather is the GatherRows call alone; ns/prefetch the PrefetchRows
// call, which only issues the hints (with prefetch=none, 0). ns/op
// includes the 20 µs wait. Successive batches walk a permutation of the
// rows, so a row comes back only after the other 150 MB have been read.
func BenchmarkGatherPrefetch(b *testing.B) {
	src, perm := prefetchData()
	forEachBenchLevel(b, func(b *testing.B) {
		for _, rows := range []int{32, 256} {
			for _, ahead := range []bool{false, true} {
				name := "none"
				if ahead {
					name = "ahead"
				}
				b.Run(fmt.Sprintf("rows=%d/prefetch=%s", rows, name), func(b *testing.B) {
					benchGather(b, src, perm, rows, ahead)
				})
			}
		}
	})
}

func benchGather(b *testing.B, src []float32, perm []int, rows int, ahead bool) {
	defer SetThreads(SetThreads(1))
	dst := make([]float32, rows*prefetchCols)
	var gather, issue time.Duration
	at := 0
	for i := 0; b.Loop(); i++ {
		if at+rows > len(perm) {
			at = 0
		}
		idx := perm[at : at+rows]
		at += rows
		t0 := time.Now()
		if ahead {
			PrefetchRows(src, prefetchCols, idx)
		}
		t1 := time.Now()
		issue += t1.Sub(t0)
		for time.Since(t1) < 20*time.Microsecond {
		}
		t2 := time.Now()
		GatherRows(dst, src, prefetchCols, idx)
		gather += time.Since(t2)
	}
	b.ReportMetric(float64(gather.Nanoseconds())/float64(b.N), "ns/gather")
	b.ReportMetric(float64(issue.Nanoseconds())/float64(b.N), "ns/prefetch")
}
