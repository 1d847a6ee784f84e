//go:build gc && !purego

package kernels

// optimAVX2 installs the AVX2 optimizer steps and reductions into l.
func optimAVX2(l *impl) {}

// optimAVX512 installs the AVX-512 optimizer steps and reductions into l.
func optimAVX512(l *impl) {}
