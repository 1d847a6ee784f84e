//go:build !(openblas && cgo)

package openblas

// Enabled reports whether this build links OpenBLAS: it needs the build
// tag "openblas" and cgo.
const Enabled = false

// SetThreads does nothing without OpenBLAS and returns 0.
func SetThreads(n int) int { return 0 }

// CoreName is empty without OpenBLAS.
func CoreName() string { return "" }

// Config is empty without OpenBLAS.
func Config() string { return "" }

// Sgemm panics: this build does not link OpenBLAS (see Enabled).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("openblas: built without the openblas tag or cgo")
}
