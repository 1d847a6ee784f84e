//go:build gc && !purego && (amd64 || arm64)

package kernels

import (
	"fmt"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdmlp/simdmlp/internal/freelist"
)

// The unpacked small-matrix GEMM path shared by the amd64 and arm64
// levels: the driver around the generated SgemmSmall kernels, whose sets
// are in gemmsmall_amd64.go and gemmsmall_arm64.go.

// smallKernel is the signature of the generated SgemmSmall{NN,TN}<mr>
// functions: C = alpha·op(A)·B + beta·C over m rows (a multiple of the
// function's panel height) and all n columns, reading A and B in place.
type smallKernel func(m, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)

// Epilogue flags of the small kernels (gen/internal/avx/small.go, gen/gemmsmall_neon).
const (
	smallAlpha = 1 << iota // scale the sums by alpha
	smallBeta              // add beta·C; without it C is only written
	smallBias              // add bias[j] to column j
	smallRelu              // max(x, 0) after everything else
)

// smallColsKernel is the signature of the generated SgemmSmallTNCols<t>
// functions: C = Aᵀ·B over m rows (a multiple of 16) and t columns, with
// the vectors along C's rows (see tnCols in gen/internal/avx/small.go).
type smallColsKernel func(m, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

// smallLevel is one ISA's set of small kernels, indexed by panel height
// minus one: nn[mr-1] takes A untransposed, tn[mr-1] takes Aᵀ.
type smallLevel struct {
	mr     int
	nn, tn []smallKernel
	// tnCols[t-1], when set, computes the last t = n mod vec columns of a
	// plain C = Aᵀ·B (alpha 1, beta 0) down 16 rows at a time, where the
	// tn kernels would spend a whole vector of vec lanes on t of them.
	tnCols []smallColsKernel
	vec    int
	// maxMACs bounds m·n·k (see the size limits in gemmsmall_amd64.go
	// and gemmsmall_arm64.go).
	maxMACs int
}

var (
	// smallMaxB bounds k·n, the elements of B each row panel reads: the
	// L2 cache in floats.
	smallMaxB = func() int {
		l2 := cpuid.CPU.Cache.L2
		if l2 <= 0 {
			l2 = 512 << 10
		}
		return l2 / 4
	}()
	// smallMaxBT bounds n·k when B must first be transposed.
	smallMaxBT = 16 << 10
)

// fits reports whether the unpacked kernels should take the problem.
func (s *smallLevel) fits(transB bool, m, n, k int) bool {
	if k > smallMaxB/n || m > s.maxMACs/(n*k) {
		return false
	}
	return !transB || n*k <= smallMaxBT
}

// gemm is the level's smallGemm hook (see impl.smallGemm).
func (s *smallLevel) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !s.fits(transB, m, n, k) {
		return false
	}
	s.mul(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	return true
}

// mul is gemm without the size limits (benchmarks call it to find them).
func (s *smallLevel) mul(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	flags := 0
	if alpha != 1 {
		flags |= smallAlpha
	}
	if beta != 0 {
		flags |= smallBeta
	}
	if !transB {
		s.run(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, flags)
		return
	}
	w := smallWorks.Get()
	bt := w.transpose(b, ldb, n, k)
	s.run(transA, m, n, k, alpha, a, lda, bt, n, beta, c, ldc, nil, flags)
	smallWorks.Put(w)
}

// run computes the problem with the unpacked kernels: over several cores
// by blocks of rows when it is large (runSplit, below), else
// with runRows. B is untransposed here; the caller has checked every
// slice.
func (s *smallLevel) run(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) {
	if !s.runSplit(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags) {
		s.runRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags)
	}
}

// runRows computes the rows it is given: the last few columns of a plain
// Aᵀ·B with tnCols where the level has it (see colsTail), the rest with
// panelRows.
func (s *smallLevel) runRows(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) {
	if t := s.colsTail(transA, m, n, flags); t > 0 {
		// The rows down to a multiple of 16 split by columns, the others
		// whole: every element is the same chain of FMAs either way.
		mt, nm := m-m%16, n-t
		if nm > 0 {
			s.panelRows(transA, mt, nm, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags)
		}
		s.tnCols[t-1](mt, k, &a[0], lda, &b[nm], ldb, &c[nm], ldc)
		if mt < m {
			s.panelRows(transA, m-mt, n, k, alpha, a[mt:], lda, b, ldb, beta, c[mt*ldc:], ldc, bias, flags)
		}
		return
	}
	s.panelRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags)
}

// colsTail returns how many last columns the level's tnCols kernels take
// from runRows's problem, or 0: a plain Aᵀ·B (no alpha, beta, bias or
// activation) whose last vector of columns holds 1 to len(tnCols) of
// them, with 16 rows or more.
func (s *smallLevel) colsTail(transA bool, m, n, flags int) int {
	if !transA || flags != 0 || m < 16 || len(s.tnCols) == 0 {
		return 0
	}
	if t := n % s.vec; t <= len(s.tnCols) {
		return t
	}
	return 0
}

// panelRows calls the kernel of full panels for the first m - m%mr rows
// and the kernel of the right height for the rest.
func (s *smallLevel) panelRows(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) {
	fns := s.nn
	if transA {
		fns = s.tn
	}
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	main := m - m%s.mr
	if main > 0 {
		fns[s.mr-1](main, n, k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta, bp, flags)
	}
	if r := m - main; r > 0 {
		aoff := main * lda
		if transA {
			aoff = main
		}
		fns[r-1](r, n, k, &a[aoff], lda, &b[0], ldb, &c[main*ldc], ldc, alpha, beta, bp, flags)
	}
}

// dense is the level's smallDense hook (see impl.smallDense): the GEMM's
// epilogue adds the bias and applies the activations it can (see
// smallEpilogue) as C is written; the others run with l's kernels on the
// finished rows while they are still in cache.
func (s *smallLevel) dense(l *impl, act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) bool {
	if k == 0 || !s.fits(false, m, n, k) {
		return false
	}
	flags := smallBias
	if activations[act].epilogue {
		flags |= smallEpilogue(act)
	}
	s.run(false, m, n, k, 1, x, ldx, w, ldw, 0, y, ldy, bias, flags)
	if !activations[act].epilogue {
		applyActivationRows(l, act, m, n, y, ldy)
	}
	return true
}

// smallEpilogue returns the small kernels' flag for an activation that
// the activation table marks as applied in the GEMM's epilogue.
func smallEpilogue(act Activation) int {
	switch act {
	case ActLinear:
		return 0
	case ActReLU:
		return smallRelu
	default:
		panic(fmt.Sprintf("kernels: activation %v is marked for the GEMM epilogue, which has no code for it", act))
	}
}

// smallWork holds the transposed copy of B for one call. Workspaces are
// recycled through a free list, as the packed driver's are, so that a
// warmed-up Sgemm allocates nothing, whatever the number of goroutines.
type smallWork struct {
	bt []float32
}

// smallWorks recycles the transposition workspaces.
var smallWorks freelist.List[smallWork]

// transpose copies the n×k matrix b (leading dimension ldb) into the
// workspace as its k×n transpose, contiguous, and returns it.
func (w *smallWork) transpose(b []float32, ldb, n, k int) []float32 {
	if cap(w.bt) < n*k {
		w.bt = make([]float32, n*k)
	}
	bt := w.bt[:n*k]
	for j := range n {
		row := b[j*ldb : j*ldb+k]
		for p, v := range row {
			bt[p*n+j] = v
		}
	}
	return bt
}

// smallJob is one call of the unpacked small-matrix kernels split over
// cores by blocks of rows of C. Each block is a whole number of the
// level's row panels, so the panels (and the order every element is
// summed in) are those of the call on one core, whatever the number of
// parts.
type smallJob struct {
	fork
	s             *smallLevel
	transA        bool
	m, n, k       int
	alpha, beta   float32
	a, b, c, bias []float32
	lda, ldb, ldc int
	flags         int
}

var smallJobs freelist.List[smallJob]

// runSplit runs s.run's problem over several cores when it is large
// enough, and reports whether it did. The decision to take the unpacked
// path was made on the whole problem before, so the thread count never
// changes which kernels compute the result.
func (s *smallLevel) runSplit(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) bool {
	// Two parts per thread: the row blocks repeat nothing (each row panel
	// streams B from where it lies in any case), and on one core four
	// parts run as fast as one call.
	parts, threads := splitParts(m*n*k, ceilDiv(m, s.mr), 2)
	if parts < 2 {
		return false
	}
	j := smallJobs.Get()
	j.s, j.transA, j.m, j.n, j.k, j.alpha, j.beta = s, transA, m, n, k, alpha, beta
	j.a, j.b, j.c, j.bias, j.lda, j.ldb, j.ldc, j.flags = a, b, c, bias, lda, ldb, ldc, flags
	j.run(j, parts, threads)
	j.a, j.b, j.c, j.bias = nil, nil, nil, nil
	smallJobs.Put(j)
	return true
}

func (j *smallJob) part(i, parts, _ int) {
	lo, hi := blockRange(i, parts, j.m, j.s.mr)
	if lo >= hi {
		return
	}
	aoff := lo * j.lda
	if j.transA {
		aoff = lo
	}
	j.s.runRows(j.transA, hi-lo, j.n, j.k, j.alpha, j.a[aoff:], j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc, j.bias, j.flags)
}
