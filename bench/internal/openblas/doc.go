// Package openblas calls OpenBLAS's cblas_sgemm through cgo, for the
// benchmarks beside simdmlp's kernels. Everything that needs a C
// toolchain sits behind the build tag "openblas" (and cgo), so a plain
// `go test ./...` in bench/ builds this package as an empty shell and
// needs neither a C compiler nor the library; see Enabled.
//
// Build with the tag on a machine with Debian's libopenblas-dev (which
// also installs the pkg-config file this package reads):
//
//	go test -tags openblas -run '^$' -bench 'Sgemm/impl=openblas' ./...
//
// OpenBLAS chooses its kernels at load time from the CPU, unless the
// environment says otherwise: OPENBLAS_CORETYPE names the core whose
// kernels run (Haswell is the AVX2 one; SkylakeX and Cooperlake the
// AVX-512 ones), and OPENBLAS_L2_SIZE overrides the L2 size its
// blocking assumes. CoreName reports what was chosen.
package openblas
