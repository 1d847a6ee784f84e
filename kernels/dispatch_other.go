package kernels

// archLevels returns the assembly levels usable on this CPU. None is built
// yet, so every architecture runs the generic Go kernels; the amd64 and
// arm64 files that replace this one will report avx2, avx512 and neon.
func archLevels() []*impl { return nil }
