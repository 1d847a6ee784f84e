//go:build gc && !purego && (amd64 || arm64)

package kernels

import "testing"

// TestSmallEpilogueCoversTable fails when the activation table marks an
// activation for the GEMM epilogue that the small kernels have no flag
// for (smallEpilogue would panic on the first DenseForward using it).
func TestSmallEpilogueCoversTable(t *testing.T) {
	for _, a := range Activations() {
		if !activations[a].epilogue {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("activation %v: %v", a, r)
				}
			}()
			smallEpilogue(a)
		}()
	}
}
