//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// prefetchAMD64 installs the row prefetch. PREFETCHT0 is part of every
// x86-64 CPU, but the generic level stays pure Go, so it is the vector
// levels that install it (avx2, and avx512 by inheritance).
func prefetchAMD64(l *impl) {
	l.prefetchRows = asm.PrefetchRowsT0
}
