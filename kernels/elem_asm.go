//go:build gc && !purego && (amd64 || arm64)

package kernels

// Helpers of the assembly levels' elementwise glue (elem_amd64.go,
// elem_arm64.go).

// ceChunk rows are handed to the cross-entropy and argmax assembly at a
// time, so that their per-row results fit in a stack array (the
// cross-entropy assembly's stats array holds exactly 3·ceChunk float64s). The assembly
// is called directly, not through a function value, so that the compiler
// can see that the array does not escape.
const ceChunk = 64

// countEqual counts the positions where a and b hold the same label.
func countEqual(a, b []int32) int {
	b = b[:len(a)]
	n := 0
	for i, v := range a {
		if v == b[i] {
			n++
		}
	}
	return n
}
