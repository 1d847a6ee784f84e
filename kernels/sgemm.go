package kernels

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major storage, where
// op(X) is X or its transpose Xᵀ as transA and transB say. op(A) is m×k,
// op(B) is k×n and C is m×n:
//
//   - A is m×k with lda ≥ max(1, k) when !transA, k×m with lda ≥ max(1, m)
//     when transA;
//   - B is k×n with ldb ≥ max(1, n) when !transB, n×k with ldb ≥ max(1, k)
//     when transB;
//   - C is m×n with ldc ≥ max(1, n).
//
// Element (i, j) of a matrix X with leading dimension ldx is x[i*ldx+j]; a
// slice must hold at least ldx·(rows-1)+cols elements, or none when the
// matrix is empty.
//
// As in BLAS, beta == 0 means C is only written, never read, so NaN or Inf
// already in C does not reach the result; alpha == 0 or k == 0 means A and
// B are not read and C becomes beta·C (zeros when beta == 0). Elements of c
// outside the m×n region (the ldc padding) are never touched.
//
// A large product runs on up to Threads() cores (see SetThreads): C is
// cut into blocks of whole tiles, rows or columns, never along k, so the
// result is bit for bit the same whatever the thread count. Small
// products stay on the calling goroutine.
//
// Sgemm may be called from several goroutines at once; they share the
// worker pool, and a call that finds every worker busy does the work
// itself. Its packing workspaces are recycled and grow only to the
// largest problem seen, so once warmed up it allocates nothing, threaded
// or not. A bad argument panics with a message naming it and
// the bound it broke; the checks follow the order of gonum's blas/gonum
// (dimensions, leading dimensions, then slice lengths), and m == 0 or
// n == 0 returns before the slice lengths are checked.
//
// The products are summed in float32 in an order that depends on the
// kernel level and the blocking, so results of different levels agree to
// rounding (about k·2⁻²⁴ relative to Σ|a||b|), not bit for bit.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const fn = "Sgemm"
	checkDim(fn, "m", m)
	checkDim(fn, "n", n)
	checkDim(fn, "k", k)
	if transA {
		checkLd(fn, "lda", lda, m, "m, A transposed")
	} else {
		checkLd(fn, "lda", lda, k, "k, A not transposed")
	}
	if transB {
		checkLd(fn, "ldb", ldb, k, "k, B transposed")
	} else {
		checkLd(fn, "ldb", ldb, n, "n, B not transposed")
	}
	checkLd(fn, "ldc", ldc, n, "n")
	if m == 0 || n == 0 {
		return
	}
	if transA {
		checkLen(fn, "a", len(a), matrixLen(fn, k, m, lda))
	} else {
		checkLen(fn, "a", len(a), matrixLen(fn, m, k, lda))
	}
	if transB {
		checkLen(fn, "b", len(b), matrixLen(fn, n, k, ldb))
	} else {
		checkLen(fn, "b", len(b), matrixLen(fn, k, n, ldb))
	}
	checkLen(fn, "c", len(c), matrixLen(fn, m, n, ldc))

	active.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemm is Sgemm on level l after the checks (m, n ≥ 1, every slice long
// enough): the level's unpacked kernels when they take the shape, else its
// blocked driver.
func (l *impl) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	if small := l.smallGemm; small != nil && small(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	gemm(&l.sgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkDim panics unless the dimension v is ≥ 0; fn names the caller.
func checkDim(fn, name string, v int) {
	if v < 0 {
		panic(fmt.Sprintf("kernels: %s: %s = %d, need ≥ 0", fn, name, v))
	}
}

// checkLd panics unless ld ≥ max(1, cols); why names the dimension ld
// must cover (and the transposition that made it so), fn the caller.
func checkLd(fn, name string, ld, cols int, why string) {
	if need := max(1, cols); ld < need {
		panic(fmt.Sprintf("kernels: %s: %s = %d, need ≥ %d (%s)", fn, name, ld, need, why))
	}
}

// matrixLen returns how many elements a rows×cols matrix with leading
// dimension ld spans: ld·(rows-1)+cols, or 0 when it is empty. It panics,
// naming the caller fn, rather than wrap around when that does not fit in
// an int.
func matrixLen(fn string, rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	const maxInt = int(^uint(0) >> 1)
	if rows-1 > (maxInt-cols)/ld {
		panic(fmt.Sprintf("kernels: %s: %d×%d matrix with leading dimension %d overflows int", fn, rows, cols, ld))
	}
	return ld*(rows-1) + cols
}

// scaleMatrix sets the m×n matrix C to beta·C. With beta == 0 it writes
// zeros without reading C, so NaNs in C are cleared as BLAS requires.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
