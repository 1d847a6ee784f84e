//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// prefetchNEON installs the row prefetch on the neon level. PRFM is not a
// NEON instruction but part of every arm64 core, as the level is.
func prefetchNEON(l *impl) {
	l.prefetchRows = asm.PrefetchRowsARM64
}
