//go:build gc && !purego

package kernels

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// TestPrefetchInstalled checks that every vector level prefetches with the
// assembly and that the generic level stays pure Go.
func TestPrefetchInstalled(t *testing.T) {
	if !sameFunc(generic.prefetchRows, refPrefetchRows) {
		t.Error("the generic level's prefetchRows is not refPrefetchRows")
	}
	for _, l := range levels[1:] {
		if !sameFunc(l.prefetchRows, asm.PrefetchRowsT0) {
			t.Errorf("level %s does not prefetch with asm.PrefetchRowsT0", l.name)
		}
	}
}
