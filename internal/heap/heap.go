// Package heap measures what code allocates, for the tests that hold the
// library to its memory bounds (a hostile header, an absurd size).
package heap

import "runtime"

// Allocated returns the bytes f allocates on the heap, from the runtime's
// cumulative count (TotalAlloc), so what f frees again still counts.
func Allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
