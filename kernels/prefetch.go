package kernels

import "fmt"

// PrefetchRows asks the CPU to bring the rows idx[k] of src (rows of cols
// values, as GatherRows reads them) into its caches, and returns without
// waiting for them: a trainer calls it with the next batch's indices, so
// that the rows, picked at random from a data set far larger than the
// caches, arrive from memory while the current step computes, and the
// next GatherRows copies them from the cache instead of waiting on
// memory for each one.
//
// It is a hint only: it changes no memory and no result, and a CPU may
// drop it. Its arguments are checked as GatherRows checks them, before
// any prefetch: cols < 1 or an index outside the rows of src panics with
// a message naming it. The amd64 levels issue a PREFETCHT0 and the neon
// level a PRFM PLDL1KEEP for each 64-byte line of the rows; the generic
// level (and the purego build, and other architectures) has no way to
// prefetch from Go and does nothing.
//
// The prefetches go to the caches of the calling core, and issuing them
// waits whenever the core has as many misses in flight as it can track,
// so the call takes a few microseconds for a batch of 32 images. When
// GatherRows would split the same rows over threads, PrefetchRows does
// nothing: the split copy already has every core's misses in flight, and
// one core's prefetch would only serialize them (measured on Zen 5: a
// batch of 256 on two threads steps 2 to 8% slower with it, on one
// thread 3 to 4% faster). It allocates nothing.
func PrefetchRows(src []float32, cols int, idx []int) {
	if cols < 1 {
		panic(fmt.Sprintf("kernels: PrefetchRows: cols = %d, need ≥ 1", cols))
	}
	checkRowIndices("PrefetchRows", len(src)/cols, idx)
	if len(idx) == 0 {
		return
	}
	if parts, _ := splitParts(4*len(idx)*cols*gatherMACsPerByte, len(idx), 2); parts > 1 {
		return
	}
	active.prefetchRows(src, cols, idx)
}

// refPrefetchRows is the generic level's PrefetchRows: a hint Go cannot
// give, so nothing, which is also what any level must equal in effect.
func refPrefetchRows(src []float32, cols int, idx []int) {}
