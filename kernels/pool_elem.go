package kernels

import (
	"sync/atomic"

	"github.com/simdmlp/simdmlp/internal/freelist"
)

// allFinite is AllFinite, split over threads when x is large: the trainer
// checks its whole data set (48000 images are 150 MB) on every Fit, which
// on one core costs a noticeable share of an epoch (bench/README.md,
// "Checking the data over threads"). The answer is a logical and of the
// parts, the same for any split.
func allFinite(x []float32) bool {
	fn := active.allFinite
	parts, threads := splitParts(len(x)*finiteMACsPerElem, ceilDiv(len(x), finiteUnit), 2)
	if parts < 2 {
		return fn(x)
	}
	j := finiteJobs.Get()
	j.x, j.fn = x, fn
	j.bad.Store(false)
	j.run(j, parts, threads)
	ok := !j.bad.Load()
	j.x, j.fn = nil, nil
	finiteJobs.Put(j)
	return ok
}

// finiteMACsPerElem weighs an element checked against a multiply-add for
// splitParts: the check streams from memory at 6-8 elements per
// nanosecond on one core, the GEMM kernels do 100-200 multiply-adds.
const finiteMACsPerElem = 25

// finiteUnit keeps the parts' edges on whole cache lines of 64-byte
// aligned data and the parts long enough to stream.
const finiteUnit = 4096

type finiteJob struct {
	fork
	x   []float32
	fn  func([]float32) bool
	bad atomic.Bool
}

var finiteJobs freelist.List[finiteJob]

func (j *finiteJob) part(i, n, _ int) {
	lo, hi := blockRange(i, n, len(j.x), finiteUnit)
	if !j.bad.Load() && !j.fn(j.x[lo:hi]) {
		j.bad.Store(true)
	}
}
