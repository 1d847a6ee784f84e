package kernels

import (
	"fmt"

	"github.com/simdmlp/simdmlp/internal/freelist"
)

// GatherRows copies rows of cols elements from src into dst: row k of dst
// becomes row idx[k] of src, as a trainer draws a shuffled mini-batch.
// Every index is checked before anything is written; a bad argument
// panics with a message naming it. Large gathers are split over the
// threads SetThreads allows: a batch of a few hundred random rows is
// bound by memory latency, which a second core halves. It allocates
// nothing.
func GatherRows(dst, src []float32, cols int, idx []int) {
	if cols < 1 {
		panic(fmt.Sprintf("kernels: GatherRows: cols = %d, need ≥ 1", cols))
	}
	checkLen("GatherRows", "dst", len(dst), len(idx)*cols)
	checkRowIndices("GatherRows", len(src)/cols, idx)
	bytes := 4 * len(idx) * cols
	if parts, threads := splitParts(bytes*gatherMACsPerByte, len(idx), 2); parts > 1 {
		j := gatherJobs.Get()
		j.dst, j.src, j.cols, j.idx = dst, src, cols, idx
		j.run(j, parts, threads)
		j.dst, j.src, j.idx = nil, nil, nil
		gatherJobs.Put(j)
		return
	}
	gatherRows(dst, src, cols, idx)
}

// gatherMACsPerByte weighs a copied byte against a multiply-add for
// splitParts: rows picked at random from a large data set arrive at
// roughly 6-10 bytes per nanosecond on one core (the trainer's profile at
// batch 256 puts the gather at a sixth of a step), against 100-200
// multiply-adds per nanosecond in the GEMM kernels. It is set so that a
// batch of 256 (or 128) rows of 784 floats is split into the same row
// blocks as the forward product that reads it next (4 and 2 parts with
// two threads), so that each core multiplies mostly rows it gathered
// itself; a batch of 32 rows is not split.
const gatherMACsPerByte = 24

// gatherJob is one GatherRows call split over cores by blocks of rows.
type gatherJob struct {
	fork
	dst, src []float32
	cols     int
	idx      []int
}

var gatherJobs freelist.List[gatherJob]

func (j *gatherJob) part(i, parts, _ int) {
	lo, hi := blockRange(i, parts, len(j.idx), 1)
	gatherRows(j.dst[lo*j.cols:], j.src, j.cols, j.idx[lo:hi])
}

// checkRowIndices panics, naming fn, unless every index of idx picks one
// of the rows of src.
func checkRowIndices(fn string, rows int, idx []int) {
	for k, i := range idx {
		if i < 0 || i >= rows {
			panic(fmt.Sprintf("kernels: %s: idx[%d] = %d, need 0 ≤ idx < %d (rows of src)", fn, k, i, rows))
		}
	}
}

func gatherRows(dst, src []float32, cols int, idx []int) {
	for k, i := range idx {
		copy(dst[k*cols:(k+1)*cols], src[i*cols:(i+1)*cols])
	}
}
