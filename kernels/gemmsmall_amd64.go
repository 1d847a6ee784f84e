//go:build gc && !purego

package kernels

import (
	"sync"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// smallKernel is the signature of the generated SgemmSmall{NN,TN}<mr>
// functions: C = alpha·op(A)·B + beta·C over m rows (a multiple of the
// function's panel height) and all n columns, reading A and B in place.
type smallKernel func(m, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)

// Epilogue flags of the small kernels (gen/internal/avx/small.go).
const (
	smallAlpha = 1 << iota // scale the sums by alpha
	smallBeta              // add beta·C; without it C is only written
	smallBias              // add bias[j] to column j
	smallRelu              // max(x, 0) after everything else
)

// smallLevel is one ISA's set of small kernels, indexed by panel height
// minus one: nn[mr-1] takes A untransposed, tn[mr-1] takes Aᵀ.
type smallLevel struct {
	mr     int
	nn, tn []smallKernel
	// maxMACs bounds m·n·k (see the size limits below).
	maxMACs int
}

var smallAVX2 = &smallLevel{
	mr:      4,
	maxMACs: 1 << 24,
	nn:      []smallKernel{asm.SgemmSmallNN1AVX2, asm.SgemmSmallNN2AVX2, asm.SgemmSmallNN3AVX2, asm.SgemmSmallNN4AVX2},
	tn:      []smallKernel{asm.SgemmSmallTN1AVX2, asm.SgemmSmallTN2AVX2, asm.SgemmSmallTN3AVX2, asm.SgemmSmallTN4AVX2},
}

var smallAVX512 = &smallLevel{
	mr:      8,
	maxMACs: 1 << 27,
	nn: []smallKernel{
		asm.SgemmSmallNN1AVX512, asm.SgemmSmallNN2AVX512, asm.SgemmSmallNN3AVX512, asm.SgemmSmallNN4AVX512,
		asm.SgemmSmallNN5AVX512, asm.SgemmSmallNN6AVX512, asm.SgemmSmallNN7AVX512, asm.SgemmSmallNN8AVX512,
	},
	tn: []smallKernel{
		asm.SgemmSmallTN1AVX512, asm.SgemmSmallTN2AVX512, asm.SgemmSmallTN3AVX512, asm.SgemmSmallTN4AVX512,
		asm.SgemmSmallTN5AVX512, asm.SgemmSmallTN6AVX512, asm.SgemmSmallTN7AVX512, asm.SgemmSmallTN8AVX512,
	},
}

// gemmSmallAVX2 installs the AVX2 unpacked small-matrix GEMM into l.
func gemmSmallAVX2(l *impl) {
	l.smallGemm = smallAVX2.gemm
	l.denseForward = smallAVX2.denseForward
}

// gemmSmallAVX512 installs the AVX-512 unpacked small-matrix GEMM into l.
func gemmSmallAVX512(l *impl) {
	l.smallGemm = smallAVX512.gemm
	l.denseForward = smallAVX512.denseForward
}

// Size limits of the unpacked path, placed with BenchmarkGemmSmallCrossover
// (one core, Zen 5, quiet machine; median GFLOP/s, unpacked vs the packed
// driver of the same level):
//
//   - AVX-512 ran faster unpacked on every shape tried: 258 vs 175 at
//     128³, 245 vs 213 at 512³, 236 vs 213 at 1024×1024×32 (Aᵀ), 169 vs
//     143 at 32×1024×1024. maxMACs stops at 512³, the largest measured.
//   - AVX2 ran faster unpacked up to 384³ (131 vs 116), about even at 512³
//     (106 vs 117, within the noise), and slower once B outgrew L2
//     (32×1024×1024: 48 vs 88) or C reached 4 MiB with k = 32 (74 vs
//     113); maxMACs = 256³ keeps it clear of both.
//   - With B transposed first (A·Bᵀ) the two paths came out even at
//     32×300 by 300 and 32×784 by 100 on both levels, so only a small Bᵀ,
//     whose copy is cheap (the trainer's 100×10: 87 vs 65 on AVX-512),
//     goes unpacked.
//
// Without packing every row panel streams the rows of B it needs from
// where B lies, hence the L2 bound on B for both levels. The packed driver
// is single-threaded today; if it gains threads these limits need
// measuring again with GOMAXPROCS > 1.
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
	w := getSmallWork()
	bt := w.transpose(b, ldb, n, k)
	s.run(transA, m, n, k, alpha, a, lda, bt, n, beta, c, ldc, nil, flags)
	putSmallWork(w)
}

// run computes the problem with the unpacked kernels: over several cores
// by blocks of rows when it is large (runSplit, gemm_amd64.go), else
// with runRows. B is untransposed here; the caller has checked every
// slice.
func (s *smallLevel) run(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) {
	if !s.runSplit(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags) {
		s.runRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, flags)
	}
}

// runRows calls the kernel of full panels for the first m - m%mr rows and
// the kernel of the right height for the rest.
func (s *smallLevel) runRows(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, flags int) {
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

// denseForward is the level's fused dense layer (see DenseForward): the
// GEMM's epilogue adds the bias and applies ReLU as C is written; the
// exp-based activations run on the finished rows while they are still in
// cache.
func (s *smallLevel) denseForward(act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) {
	if k == 0 || !s.fits(false, m, n, k) {
		genericDenseForward(act, m, n, k, x, ldx, w, ldw, bias, y, ldy)
		return
	}
	flags := smallBias
	if act == ActReLU {
		flags |= smallRelu
	}
	s.run(false, m, n, k, 1, x, ldx, w, ldw, 0, y, ldy, bias, flags)
	switch act {
	case ActLinear, ActReLU:
	case ActSigmoid, ActTanh, ActSoftmax:
		applyActivationRows(act, m, n, y, ldy)
	}
}

// smallWork holds the transposed copy of B for one call. Workspaces are
// recycled through a free list (as the packed driver's are) so that a
// warmed-up Sgemm allocates nothing, whatever the number of goroutines.
type smallWork struct {
	bt []float32
}

var smallPool struct {
	sync.Mutex
	free []*smallWork
}

func getSmallWork() *smallWork {
	smallPool.Lock()
	defer smallPool.Unlock()
	if n := len(smallPool.free); n > 0 {
		w := smallPool.free[n-1]
		smallPool.free = smallPool.free[:n-1]
		return w
	}
	return new(smallWork)
}

func putSmallWork(w *smallWork) {
	smallPool.Lock()
	smallPool.free = append(smallPool.free, w)
	smallPool.Unlock()
}

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
