// Package avx holds what the amd64 generators share: the package and build
// constraint every generated file carries, and small emitters used by more
// than one generator.
package avx

import (
	. "github.com/mmcloughlin/avo/build"
)

// Setup gives every generated file the same build constraint,
// so that the purego tag and non-gc compilers leave all assembly out.
func Setup() {
	// avo's constraint parser takes the comma form; it writes the
	// file's //go:build line as "gc && !purego".
	ConstraintExpr("gc,!purego")
}

// End emits VZEROUPPER and RET: every AVX function leaves the upper halves
// clear so that SSE code running after it pays no transition penalty.
func End() {
	VZEROUPPER()
	RET()
}
