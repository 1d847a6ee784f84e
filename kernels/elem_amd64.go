//go:build gc && !purego

package kernels

// elemAVX2 installs the AVX2 elementwise kernels into l.
func elemAVX2(l *impl) {}

// elemAVX512 installs the AVX-512 elementwise kernels into l.
func elemAVX512(l *impl) {}
