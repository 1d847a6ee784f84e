package kernels

import "fmt"

// DenseForward is the forward pass of a dense layer on a batch:
//
//	y = act(x·w + bias)
//
// with x m×k (leading dimension ldx ≥ max(1, k)), w k×n (ldw ≥ max(1, n)),
// bias of length ≥ n and y m×n (ldy ≥ max(1, n)), all row-major. y must
// not overlap x, w or bias; elements of y outside its m×n region are not
// touched. On any one kernel level the result is, bit for bit, that of
// Sgemm(false, false, m, n, k, 1, x, ldx, w, ldw, 0, y, ldy) followed by
// BiasActivation on each row of y (so levels differ only by the rounding
// of Sgemm's sums, about k·2⁻²⁴ relative to Σ|x||w|), but it runs in one
// pass where the level can: the assembly levels add the bias and apply
// ReLU as each tile of y leaves the registers, and run the exp-based
// activations on the finished rows while they are still in cache.
//
// y is only written, so NaN already in y does not reach the result. k == 0
// reads neither x nor w and sets every row of y to act(bias). A bad
// argument panics with a message naming it, checked in the order
// dimensions, leading dimensions, activation, then slice lengths; m == 0
// or n == 0 returns before the slice lengths are checked. Once warmed up
// it allocates nothing. A large call runs on the threads SetThreads
// allows, split by blocks of rows of y, with the same bits as on one.
func DenseForward(act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) {
	const fn = "DenseForward"
	for _, d := range []struct {
		name string
		v    int
	}{{"m", m}, {"n", n}, {"k", k}} {
		if d.v < 0 {
			panic(fmt.Sprintf("kernels: %s: %s = %d, need ≥ 0", fn, d.name, d.v))
		}
	}
	denseCheckLd("ldx", ldx, k, "k")
	denseCheckLd("ldw", ldw, n, "n")
	denseCheckLd("ldy", ldy, n, "n")
	if act < ActLinear || act > ActSoftmax {
		panic(fmt.Sprintf("kernels: %s: unknown activation %v", fn, act))
	}
	if m == 0 || n == 0 {
		return
	}
	checkLen(fn, "x", len(x), denseLen(m, k, ldx))
	checkLen(fn, "w", len(w), denseLen(k, n, ldw))
	checkLen(fn, "bias", len(bias), n)
	checkLen(fn, "y", len(y), denseLen(m, n, ldy))
	if f := active.denseForward; f != nil {
		f(act, m, n, k, x, ldx, w, ldw, bias[:n], y, ldy)
		return
	}
	genericDenseForward(act, m, n, k, x, ldx, w, ldw, bias[:n], y, ldy)
}

func denseCheckLd(name string, ld, cols int, dim string) {
	if need := max(1, cols); ld < need {
		panic(fmt.Sprintf("kernels: DenseForward: %s = %d, need ≥ %d (%s)", name, ld, need, dim))
	}
}

// denseLen is matrixLen with DenseForward's name in its overflow panic.
func denseLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	const maxInt = int(^uint(0) >> 1)
	if rows-1 > (maxInt-cols)/ld {
		panic(fmt.Sprintf("kernels: DenseForward: %d×%d matrix with leading dimension %d overflows int", rows, cols, ld))
	}
	return ld*(rows-1) + cols
}

// denseRows says how to walk the m×n matrix y with the kernels that take
// contiguous rows×cols blocks: all m rows at once when rows are not
// padded, else one row of stride ldy at a time.
func denseRows(m, n, ldy int) (rows, step int) {
	if ldy == n {
		return m, n
	}
	return 1, ldy
}

// genericDenseForward is the two-pass dense layer on the active level:
// Sgemm, then BiasActivation on each row of y. It serves the levels
// without a fused path, and the shapes a fused path does not take. Arguments are
// checked, m, n ≥ 1 and len(bias) = n.
func genericDenseForward(act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) {
	Sgemm(false, false, m, n, k, 1, x, ldx, w, ldw, 0, y, ldy)
	rows, step := denseRows(m, n, ldy)
	for i := 0; i < m; i += rows {
		BiasActivation(act, y[i*step:i*step+rows*n], bias, rows, n)
	}
}
