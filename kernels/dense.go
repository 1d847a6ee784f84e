package kernels

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
	checkDim(fn, "m", m)
	checkDim(fn, "n", n)
	checkDim(fn, "k", k)
	checkLd(fn, "ldx", ldx, k, "k")
	checkLd(fn, "ldw", ldw, n, "n")
	checkLd(fn, "ldy", ldy, n, "n")
	mustActivation(fn, act)
	if m == 0 || n == 0 {
		return
	}
	checkLen(fn, "x", len(x), matrixLen(fn, m, k, ldx))
	checkLen(fn, "w", len(w), matrixLen(fn, k, n, ldw))
	checkLen(fn, "bias", len(bias), n)
	checkLen(fn, "y", len(y), matrixLen(fn, m, n, ldy))
	active.denseForward(act, m, n, k, x, ldx, w, ldw, bias[:n], y, ldy)
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

// denseForward is DenseForward on level l after the checks (m, n ≥ 1,
// len(bias) = n): the level's fused path when it takes the shape, else two
// passes, the level's GEMM and then its bias kernel on each block of rows.
func (l *impl) denseForward(act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) {
	if f := l.smallDense; f != nil && f(l, act, m, n, k, x, ldx, w, ldw, bias, y, ldy) {
		return
	}
	l.gemm(false, false, m, n, k, 1, x, ldx, w, ldw, 0, y, ldy)
	rows, step := denseRows(m, n, ldy)
	biasAct := l.acts[act].bias
	for i := 0; i < m; i += rows {
		biasAct(y[i*step:i*step+rows*n], bias, rows, n)
	}
}

// applyActivationRows applies activation act with l's kernel, in place,
// to the m×n matrix y whose bias has already been added. It lives here,
// untagged, because DenseInt8 calls it on every build (purego included).
func applyActivationRows(l *impl, act Activation, m, n int, y []float32, ldy int) {
	rows, step := denseRows(m, n, ldy)
	forward := l.acts[act].forward
	for i := 0; i < m; i += rows {
		z := y[i*step : i*step+rows*n]
		forward(z, z, rows, n)
	}
}
