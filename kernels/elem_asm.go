//go:build gc && !purego && (amd64 || arm64)

package kernels

// The elementwise glue both assembly architectures share: the row type of
// their activation tables and its one installer (the tables are in
// elem_amd64.go and elem_arm64.go), the Dropout installer, and the helpers
// of the row kernels.

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

// asmAct is one activation's assembly at one level, a row of the levels'
// activation tables (elem_amd64.go, elem_arm64.go); a nil kernel keeps
// the level below's.
type asmAct struct {
	forward func(dst, x []float32, rows, cols int)
	bias    func(x, bias []float32, rows, cols int)
	grad    func(dx, dy, y []float32, rows, cols int)
	// Rows narrower than minCols keep the level below's bias kernel, and
	// its forward kernel too when the activation is rowwise (softmax):
	// the AVX row kernels lose on narrow rows (see minBiasCols). 0 means
	// the assembly takes every width.
	minCols int
	rowwise bool
}

// installActs installs a level's activation table into l, which starts
// as a copy of the level below.
func installActs(l *impl, acts *[numActivations]asmAct) {
	for act, k := range acts {
		below := l.acts[act]
		if k.forward != nil {
			l.acts[act].forward = k.forward
			if k.rowwise {
				l.acts[act].forward = byCols(k.minCols, below.forward, k.forward)
			}
		}
		if k.bias != nil {
			l.acts[act].bias = byCols(k.minCols, below.bias, k.bias)
		}
		if k.grad != nil {
			l.acts[act].grad = k.grad
		}
	}
}

// byCols picks small for rows narrower than minCols columns, else big;
// with minCols ≤ 0 it is big itself, without a wrapper.
func byCols(minCols int, small, big func(x, b []float32, rows, cols int)) func(x, b []float32, rows, cols int) {
	if minCols <= 0 {
		return big
	}
	return func(x, b []float32, rows, cols int) {
		if cols < minCols {
			small(x, b, rows, cols)
			return
		}
		big(x, b, rows, cols)
	}
}

// dropoutAsm is the shape of the Dropout assembly (DropoutAVX2,
// DropoutAVX512, DropoutNEON): the fields of DropoutParams as arguments,
// since package asm cannot import kernels' types. Each handles any length,
// 0 included, and its own tail.
type dropoutAsm func(dst, x []float32, key0, key1, counter, threshold uint32, scale float32)

// installDropout installs f as l's Dropout. Dropout has checked that dst
// and x have the same length and that the threshold is at most 2²⁴; the
// reslice repeats the first check where the assembly relies on it, for
// one comparison.
func installDropout(l *impl, f dropoutAsm) {
	l.dropout = func(dst, x []float32, p DropoutParams) {
		f(dst[:len(x)], x, p.Key0, p.Key1, p.Counter, p.Threshold, p.Scale)
	}
}
