package kernels

import "github.com/simdmlp/simdmlp/internal/freelist"

// The optimizer steps over threads. Every update is elementwise and every
// level computes an element the same way wherever it lies (the level tests
// hold each to the reference at every length), so a split into blocks of
// elements gives the same bits as one pass.

// optimMACsPerElem weighs one element of an optimizer step against a
// multiply-add for splitParts: Adam streams θ, m, v and g and writes θ, m
// and v, 28 bytes an element, at about 0.27 ns an element on one Zen 5
// core (BenchmarkOptimThreads), where the GEMM kernels do 90-190
// multiply-adds per nanosecond. The tutorial's 79,510 parameters stay on
// one core: their pass is about as short as a product of batch 32, and a
// split would move their state between the cores' caches every step.
const optimMACsPerElem = 25

// optimHotMin is the least update split over threads because a worker
// is spinning (see splitOptim): the tutorial's W1 (78,400 weights) and
// larger, not its biases or its second layer.
const optimHotMin = 1 << 16

// optimUnit is the blocks' granularity, in elements: whole 64-byte lines
// of aligned data, so that two cores never write one line.
const optimUnit = 16

type optimKind uint8

const (
	optimSGD optimKind = iota
	optimAdagrad
	optimRMSprop
	optimAdam
)

// optimJob is one optimizer step split over cores by blocks of elements:
// kind selects the step, s1 to s3 are its slots in the table's order (nil
// where the step leaves one out), and the parameters of that step are set.
type optimJob struct {
	fork
	l                 *impl
	kind              optimKind
	theta, s1, s2, s3 []float32
	g                 []float32
	sgd               SGDParams
	adagrad           AdagradParams
	rmsprop           RMSpropParams
	adam              AdamParams
}

var optimJobs freelist.List[optimJob]

// splitOptim returns a job ready to run when an update of n elements is
// worth splitting, else nil.
func splitOptim(n int) (j *optimJob, parts, threads int) {
	parts, threads = splitParts(n*optimMACsPerElem, ceilDiv(n, optimUnit), 2)
	if parts < 2 && n >= optimHotMin && workers.spinning.Load() > 0 {
		// A worker is spinning: the product that made this gradient was
		// just split over the cores, so its blocks of rows lie in their
		// caches. One block per thread then matches that split's rows
		// (the trainer's weight gradients split by rows of W, one part
		// per thread), each core updates what it computed, and the
		// hand-off costs no wake-up.
		if threads = Threads(); threads >= 2 {
			parts = min(threads, ceilDiv(n, optimUnit))
		}
	}
	if parts < 2 {
		return nil, 1, 1
	}
	j = optimJobs.Get()
	j.l = active
	return j, parts, threads
}

// finish lets go of the arrays and recycles the job.
func (j *optimJob) finish() {
	j.theta, j.s1, j.s2, j.s3, j.g, j.l = nil, nil, nil, nil, nil, nil
	optimJobs.Put(j)
}

// sub is x[lo:hi], or nil for an unused (nil) slot.
func sub(x []float32, lo, hi int) []float32 {
	if x == nil {
		return nil
	}
	return x[lo:hi]
}

func (j *optimJob) part(i, parts, _ int) {
	lo, hi := blockRange(i, parts, len(j.theta), optimUnit)
	th, s1, s2, s3, g := j.theta[lo:hi], sub(j.s1, lo, hi), sub(j.s2, lo, hi), sub(j.s3, lo, hi), j.g[lo:hi]
	switch j.kind {
	case optimSGD:
		j.l.sgdStep(th, s1, g, j.sgd)
	case optimAdagrad:
		j.l.adagradStep(th, s1, g, j.adagrad)
	case optimRMSprop:
		j.l.rmspropStep(th, s1, s2, s3, g, j.rmsprop)
	case optimAdam:
		j.l.adamStep(th, s1, s2, s3, g, j.adam)
	}
}
