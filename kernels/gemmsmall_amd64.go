//go:build gc && !purego

package kernels

// gemmSmallAVX2 installs the AVX2 unpacked small-matrix GEMM into l.
func gemmSmallAVX2(l *impl) {}

// gemmSmallAVX512 installs the AVX-512 unpacked small-matrix GEMM into l.
func gemmSmallAVX512(l *impl) {}
