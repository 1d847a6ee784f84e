//go:build !(amd64 || arm64) || !gc || purego

package kernels

// archLevels returns the assembly levels usable on this CPU: none where no
// assembly is built (other architectures, gccgo, the purego tag), so the
// generic Go kernels run everywhere.
func archLevels() []*impl { return nil }
