//go:build openblas && cgo

package openblas

/*
#cgo pkg-config: openblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"strings"
)

// Enabled reports whether this build links OpenBLAS.
const Enabled = true

// SetThreads pins OpenBLAS's thread pool to n threads and returns the
// count it then reports, so a caller can check the request took.
func SetThreads(n int) int {
	C.openblas_set_num_threads(C.int(n))
	return int(C.openblas_get_num_threads())
}

// CoreName is the name of the core whose kernels OpenBLAS selected, as
// openblas_get_corename reports it ("Haswell", "Cooperlake", ...).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// Config is OpenBLAS's build description (version, DYNAMIC_ARCH, the
// threading model), from openblas_get_config.
func Config() string { return strings.TrimSpace(C.GoString(C.openblas_get_config())) }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices
// with cblas_sgemm, taking kernels.Sgemm's arguments: op(A) is m×k, op(B)
// is k×n. It checks the slice lengths first, because C would read past
// a short slice without a word.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ar, ac := m, k
	ta := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transA {
		ar, ac = k, m
		ta = C.CblasTrans
	}
	br, bc := k, n
	tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transB {
		br, bc = n, k
		tb = C.CblasTrans
	}
	check("a", a, ar, ac, lda)
	check("b", b, br, bc, ldb)
	check("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), ptr(a), C.blasint(lda), ptr(b), C.blasint(ldb),
		C.float(beta), ptr(c), C.blasint(ldc))
}

// check panics unless s holds a rows×cols row-major matrix with leading
// dimension ld.
func check(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("openblas: ld%s = %d, need at least %d", name, ld, max(cols, 1)))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("openblas: len(%s) = %d, need %d", name, len(s), (rows-1)*ld+cols))
	}
}

// ptr is the address of s's first element, or nil for an empty slice
// (OpenBLAS reads nothing then).
func ptr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(&s[0])
}
