//go:build !linux && !darwin

package mlp

// systemMemory is unknown here; only overflow bounds the sizes.
func systemMemory() uint64 { return 0 }
