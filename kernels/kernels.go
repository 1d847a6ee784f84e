// Package kernels holds the numerical kernels of simdmlp: single-precision
// matrix multiplication, activations and their gradients, the fused
// softmax cross-entropy, and the fused optimizer updates.
//
// Every kernel works on row-major float32 slices that the caller owns and
// allocates nothing. Each exported function checks its arguments and panics
// with a message naming the argument and the size it needed, so the
// implementation underneath (the Go reference, or assembly on CPUs that
// have a faster level) never sees a slice that is too short.
//
// The implementation is chosen once at start-up from what the CPU reports
// (see Available, Active, Use and the SIMDMLP_KERNELS environment
// variable). The "generic" level is portable Go and is the reference every
// other level is tested against.
//
// Numerics: the exp-based kernels (Sigmoid, Tanh, Softmax and the fused
// softmax cross-entropy) use a float32 exponential that is within 1 ulp of
// the correctly rounded value wherever that value is a normal float32
// (checked for every float32 input). Exponentials below the smallest
// normal float32, 2⁻¹²⁶ ≈ 1.18e-38, are flushed to exactly 0: subnormal
// numbers would slow every later operation on them on many CPUs, and an
// error below 2⁻¹²⁶ is invisible in training. The bounds documented per
// kernel hold on every level and are tested against float64 references; a
// bound of n ulp means at most n float32 steps from the correctly rounded
// result, or an absolute error of at most 2⁻¹²⁶ where that result is below
// the normal range.
//
// Kernels built only from +, −, ×, ÷ and square roots (the gradients, the
// optimizer updates, AddBias, ColSum, Scale) round each operation to
// float32 in the documented order, without fused multiply-adds, and so
// give the same bits on every level and architecture.
package kernels

import "fmt"

// SGDParams holds the scalars of one SGD step (Keras 2.14 formulas). In
// this and the other optimizers' formulas every operation rounds to
// float32, left to right as written, with products formed before sums and
// no fused multiply-add: the updates are the exact IEEE float32 values of
// Keras's graph, the same bits on every level.
//
//	m ← flush(-LR·g + Momentum·m)
//	θ ← θ + m                       (Nesterov false)
//	θ ← θ + (-LR·g + Momentum·m)    (Nesterov true, with the new m)
//
// One rule departs from IEEE arithmetic, the same on every level: flush
// stores a slot value whose magnitude is below 2⁻⁹⁵ ≈ 2.5e-29 as +0 (so −0,
// the subnormals and the smallest normal values of either sign become +0;
// NaN and ±Inf are kept), and the rest of the step computes with the
// stored value. Every slot that decays toward zero goes through it: SGD's
// m, RMSprop's v, ḡ and mom, Adam's m, v and v̂ (OptimizerSlot.Flushed).
// Without it a slot whose gradient stays zero, such as a dead ReLU unit's,
// decays through the subnormal range for hundreds of steps (Adam's v for
// thousands) and, where rounding stops the decay a few steps above zero,
// stays there; every operation with a subnormal result costs a microcode
// assist on AMD cores, which made the fused Adam step three times slower.
// The floor is 2⁻⁹⁵ rather than the smallest normal float32, 2⁻¹²⁶, so
// that the next step's products of a slot with its factors (1−β, α, ρ, μ,
// anything from 2⁻³¹ up) are normal too: Adam's m·α is subnormal for m up
// to 1000·2⁻¹²⁶, and those products cost Adam on the tutorial's first layer
// a third of its time on real images. TensorFlow, and so Keras, runs on
// CPU with flush-to-zero and denormals-are-zero and never stores a
// subnormal slot either; its exact rounding at the threshold differs
// between x86 and arm64, so this plain rule replaces it. What a flushed
// slot would have added is tiny: at most 2.5e-29 to a weight through SGD's
// or RMSprop's momentum, and through Adam's m, divided by v's square root
// plus ε = 1e-7, less than 3e-22 times the rate; an RMSprop v that small
// vanishes beside ε in float32.
type SGDParams struct {
	LR, Momentum float32
	Nesterov     bool
}

// AdagradParams holds the scalars of one Adagrad step:
//
//	a ← a + g²;  θ ← θ - (LR·g) / sqrt(a + Epsilon)
//
// The accumulator only grows, from Keras's initial 0.1, so it is stored as
// computed, without SGDParams's flush of decaying slots.
type AdagradParams struct {
	LR, Epsilon float32
}

// RMSpropParams holds the scalars of one RMSprop step. OneMinusRho is passed
// separately because Keras rounds the float64 value 1-ρ to float32, which is
// not always float32(1) - float32(ρ).
//
//	v ← flush(Rho·v + OneMinusRho·g²)
//	centered: ḡ ← flush(Rho·ḡ + OneMinusRho·g);  d = v - ḡ² + Epsilon;  else d = v + Epsilon
//	inc = (LR·g)·(1/sqrt(d))
//	Momentum > 0: mom ← flush(Momentum·mom + inc);  θ ← θ - mom;  else θ ← θ - inc
//
// flush is SGDParams's rule for decaying slots.
//
// 1/sqrt(d) is a correctly rounded square root then a correctly rounded
// division; Keras calls rsqrt, which TF may evaluate less exactly, so TF's
// own numbers can differ from these in the last bit.
type RMSpropParams struct {
	LR, Rho, OneMinusRho, Momentum, Epsilon float32
	Centered                                bool
}

// AdamParams holds the scalars of one Adam step. Alpha is the bias-corrected
// rate LR·sqrt(1-β2^t)/(1-β1^t), computed by the caller once per step.
//
//	m ← flush(m + (g - m)·OneMinusBeta1)
//	v ← flush(v + (g² - v)·OneMinusBeta2)
//	amsgrad: v̂ ← flush(max(v̂, v)), and v̂ replaces v below
//	θ ← θ - (m·Alpha) / (sqrt(v) + Epsilon)
//
// flush is SGDParams's rule for decaying slots.
type AdamParams struct {
	Alpha, OneMinusBeta1, OneMinusBeta2, Epsilon float32
	Amsgrad                                      bool
}

func checkLen(fn, name string, got, need int) {
	if got < need {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, need %d", fn, name, got, need))
	}
}

func checkSame(fn, name string, got int, other string, need int) {
	if got != need {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want len(%s) = %d", fn, name, got, other, need))
	}
}

func checkShape(fn string, rows, cols int) int {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: %s: negative shape %d×%d", fn, rows, cols))
	}
	if cols != 0 && rows > int(^uint(0)>>1)/cols {
		panic(fmt.Sprintf("kernels: %s: shape %d×%d overflows int", fn, rows, cols))
	}
	return rows * cols
}

// Relu sets dst[i] = max(x[i], 0): x[i] is kept unless it is below zero, so
// NaN stays NaN and −0 stays −0 (the cheapest NaN-keeping form on every
// vector unit). dst may be x.
func Relu(dst, x []float32) {
	checkSame("Relu", "dst", len(dst), "x", len(x))
	active.acts[ActReLU].forward(dst, x, 1, len(x))
}

// ReluGrad sets dx[i] = dy[i] where y[i] > 0 and 0 elsewhere, y being the
// ReLU output (so the gradient at x = 0 is 0, as in Keras). dx may be dy.
func ReluGrad(dx, dy, y []float32) {
	checkSame("ReluGrad", "dy", len(dy), "dx", len(dx))
	checkSame("ReluGrad", "y", len(y), "dx", len(dx))
	active.acts[ActReLU].grad(dx, dy, y, 1, len(dx))
}

// Sigmoid sets dst[i] = 1/(1+exp(-x[i])), within 2 ulp of the correctly
// rounded value (absolute 2⁻¹²⁶ below the normal range; x below about
// −87.34 gives 0). sigmoid(+Inf) = 1, sigmoid(-Inf) = 0, NaN stays NaN.
// dst may be x.
func Sigmoid(dst, x []float32) {
	checkSame("Sigmoid", "dst", len(dst), "x", len(x))
	active.acts[ActSigmoid].forward(dst, x, 1, len(x))
}

// SigmoidGrad sets dx[i] = (dy[i]·y[i])·(1-y[i]), y being the sigmoid
// output, rounding in that order as TF's SigmoidGrad does. dx may be dy.
func SigmoidGrad(dx, dy, y []float32) {
	checkSame("SigmoidGrad", "dy", len(dy), "dx", len(dx))
	checkSame("SigmoidGrad", "y", len(y), "dx", len(dx))
	active.acts[ActSigmoid].grad(dx, dy, y, 1, len(dx))
}

// Tanh sets dst[i] = tanh(x[i]), within 1 ulp of the correctly rounded
// value. It is odd bit for bit: tanh(−0) = −0, tanh(±Inf) = ±1. NaN stays
// NaN. dst may be x.
func Tanh(dst, x []float32) {
	checkSame("Tanh", "dst", len(dst), "x", len(x))
	active.acts[ActTanh].forward(dst, x, 1, len(x))
}

// TanhGrad sets dx[i] = dy[i]·(1-y[i]²), y being the tanh output, with y²
// rounded before the subtraction as in TF's TanhGrad. dx may be dy.
func TanhGrad(dx, dy, y []float32) {
	checkSame("TanhGrad", "dy", len(dy), "dx", len(dx))
	checkSame("TanhGrad", "y", len(y), "dx", len(dx))
	active.acts[ActTanh].grad(dx, dy, y, 1, len(dx))
}

// Softmax sets each of the rows of dst (rows×cols, row-major) to the softmax
// of the same row of x: exp(x - max)/sum(exp(x - max)). Each element is
// within 4 ulp of the correctly rounded exact value computed from the
// float32 differences x − max (TF rounds them the same way; a difference
// of magnitude d carries up to d·2⁻²⁴ of relative error into its
// exponential before any kernel error) with exponentials below 2⁻¹²⁶
// counted as 0. Subtracting the row maximum makes huge logits safe:
// softmax([1e30, 0]) = [1, 0] and softmax([-Inf, 0]) = [0, 1]. A NaN or
// +Inf anywhere in a row, or a row of only −Inf, makes that whole row NaN;
// other rows are unaffected. dst may be x.
func Softmax(dst, x []float32, rows, cols int) {
	n := checkShape("Softmax", rows, cols)
	checkLen("Softmax", "x", len(x), n)
	checkLen("Softmax", "dst", len(dst), n)
	active.acts[ActSoftmax].forward(dst[:n], x[:n], rows, cols)
}

// SoftmaxGrad sets dx = (dy - s)·y per row with s = rowsum(dy ⊙ y), the
// gradient through a softmax whose output is y. s is accumulated in float64
// and rounded once, so each element is within 3·2⁻²⁴·|y|·(|dy| + |s|) of the
// exact value. dx may be dy.
func SoftmaxGrad(dx, dy, y []float32, rows, cols int) {
	n := checkShape("SoftmaxGrad", rows, cols)
	checkLen("SoftmaxGrad", "dx", len(dx), n)
	checkLen("SoftmaxGrad", "dy", len(dy), n)
	checkLen("SoftmaxGrad", "y", len(y), n)
	active.acts[ActSoftmax].grad(dx[:n], dy[:n], y[:n], rows, cols)
}

// AddBias adds bias[j] to every x[i·cols+j] of the rows×cols matrix x.
func AddBias(x, bias []float32, rows, cols int) {
	n := checkShape("AddBias", rows, cols)
	checkLen("AddBias", "x", len(x), n)
	checkLen("AddBias", "bias", len(bias), cols)
	active.acts[ActLinear].bias(x[:n], bias[:cols], rows, cols)
}

// BiasActivation is the fused forward tail of a dense layer: in place, it
// adds bias[j] to column j of the rows×cols matrix x and applies act, in
// one pass over x. Its results equal AddBias followed by the activation
// kernel exactly.
func BiasActivation(act Activation, x, bias []float32, rows, cols int) {
	n := checkShape("BiasActivation", rows, cols)
	checkLen("BiasActivation", "x", len(x), n)
	checkLen("BiasActivation", "bias", len(bias), cols)
	mustActivation("BiasActivation", act)
	active.acts[act].bias(x[:n], bias[:cols], rows, cols)
}

// ActivationGrad sets dx to the gradient through activation act given the
// gradient dy with respect to its output y (rows×cols each). For ActLinear
// it copies dy. dx may be dy.
func ActivationGrad(act Activation, dx, dy, y []float32, rows, cols int) {
	n := checkShape("ActivationGrad", rows, cols)
	checkLen("ActivationGrad", "dx", len(dx), n)
	checkLen("ActivationGrad", "dy", len(dy), n)
	checkLen("ActivationGrad", "y", len(y), n)
	mustActivation("ActivationGrad", act)
	active.acts[act].grad(dx[:n], dy[:n], y[:n], rows, cols)
}

// ColSum sets dst[j] to the sum of column j of the rows×cols matrix x: the
// bias gradient of a dense layer. The rows are added in order, in float32,
// so the result is the same bits on every level. With rows = 0 it sets dst
// to zeros.
func ColSum(dst, x []float32, rows, cols int) {
	n := checkShape("ColSum", rows, cols)
	checkLen("ColSum", "x", len(x), n)
	checkLen("ColSum", "dst", len(dst), cols)
	active.colSum(dst[:cols], x[:n], rows, cols)
}

// SoftmaxCrossEntropy is the fused loss of a softmax output layer with
// sparse categorical cross-entropy, computed from the logits as TF-Keras
// does (no clipping, no log of probabilities). For each row i with label
// y = labels[i] and m = max_j logits[i,j]:
//
//	loss_i       = log(sum_j exp(logits[i,j] - m)) - (logits[i,y] - m)
//	probs[i,j]   = softmax(logits[i])_j
//	grad[i,j]    = (probs[i,j] - [j == y]) / rows
//
// It returns the sum of loss_i over the rows, accumulated in float64; the
// batch loss is that sum divided by rows. probs and grad may each be nil
// to skip writing them (evaluation needs neither gradient nor probs). A
// label outside [0, cols) panics: callers validate labels first.
//
// Accuracy, against the exact values from the float32 differences
// logits − m as for Softmax: probs and grad within 4 ulp, the returned sum
// within relative 2⁻²². The label term logits[i,y] − m is exact (float64),
// so logits ±3e38 apart still give a finite loss, and a confident correct
// prediction keeps its small loss and gradient to full relative precision
// rather than rounding them to 0. A NaN or +Inf logit makes its row's
// outputs and the returned sum NaN.
func SoftmaxCrossEntropy(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	n := checkShape("SoftmaxCrossEntropy", rows, cols)
	if rows > 0 && cols == 0 {
		panic("kernels: SoftmaxCrossEntropy: cols = 0 with rows > 0")
	}
	checkLen("SoftmaxCrossEntropy", "logits", len(logits), n)
	checkLen("SoftmaxCrossEntropy", "labels", len(labels), rows)
	if probs != nil {
		checkLen("SoftmaxCrossEntropy", "probs", len(probs), n)
		probs = probs[:n]
	}
	if grad != nil {
		checkLen("SoftmaxCrossEntropy", "grad", len(grad), n)
		grad = grad[:n]
	}
	labels = labels[:rows]
	for i, l := range labels {
		if l < 0 || int(l) >= cols {
			panic(fmt.Sprintf("kernels: SoftmaxCrossEntropy: labels[%d] = %d, outside [0, %d)", i, l, cols))
		}
	}
	return active.softmaxCrossEntropy(probs, grad, logits[:n], labels, rows, cols)
}

// Argmax sets dst[i] to the index of the largest element of row i of the
// rows×cols matrix x; ties go to the first index, as in NumPy and Keras
// (−0 and +0 tie). The scan keeps the first element until a later one
// compares greater, so a NaN in the first column makes the answer 0 and a
// NaN anywhere else is never chosen.
func Argmax(dst []int32, x []float32, rows, cols int) {
	n := checkShape("Argmax", rows, cols)
	if rows > 0 && cols == 0 {
		panic("kernels: Argmax: cols = 0 with rows > 0")
	}
	checkLen("Argmax", "x", len(x), n)
	checkLen("Argmax", "dst", len(dst), rows)
	active.argmax(dst[:rows], x[:n], rows, cols)
}

// CountCorrect returns how many rows of the rows×cols matrix x have their
// Argmax equal to labels[i]: Keras's sparse categorical accuracy, as a
// count.
func CountCorrect(x []float32, labels []int32, rows, cols int) int {
	n := checkShape("CountCorrect", rows, cols)
	if rows > 0 && cols == 0 {
		panic("kernels: CountCorrect: cols = 0 with rows > 0")
	}
	checkLen("CountCorrect", "x", len(x), n)
	checkLen("CountCorrect", "labels", len(labels), rows)
	return active.countCorrect(x[:n], labels[:rows], rows, cols)
}

// SGDStep applies one fused SGD update (see SGDParams) to theta, with
// momentum buffer m and gradient g, in one pass.
func SGDStep(theta, m, g []float32, p SGDParams) {
	checkSame("SGDStep", "m", len(m), "theta", len(theta))
	checkSame("SGDStep", "g", len(g), "theta", len(theta))
	if j, parts, threads := splitOptim(len(theta)); j != nil {
		j.kind, j.theta, j.s1, j.g, j.sgd = optimSGD, theta, m, g, p
		j.run(j, parts, threads)
		j.finish()
		return
	}
	active.sgdStep(theta, m, g, p)
}

// AdagradStep applies one fused Adagrad update (see AdagradParams) to theta,
// with accumulator acc and gradient g, in one pass.
func AdagradStep(theta, acc, g []float32, p AdagradParams) {
	checkSame("AdagradStep", "acc", len(acc), "theta", len(theta))
	checkSame("AdagradStep", "g", len(g), "theta", len(theta))
	if j, parts, threads := splitOptim(len(theta)); j != nil {
		j.kind, j.theta, j.s1, j.g, j.adagrad = optimAdagrad, theta, acc, g, p
		j.run(j, parts, threads)
		j.finish()
		return
	}
	active.adagradStep(theta, acc, g, p)
}

// RMSpropStep applies one fused RMSprop update (see RMSpropParams) to theta,
// with mean square v and gradient g. mom is the momentum buffer, used only
// when p.Momentum > 0 (else it may be nil); mg is the mean gradient, used
// only when p.Centered (else it may be nil).
func RMSpropStep(theta, v, mom, mg, g []float32, p RMSpropParams) {
	checkSame("RMSpropStep", "v", len(v), "theta", len(theta))
	checkSame("RMSpropStep", "g", len(g), "theta", len(theta))
	if p.Momentum > 0 {
		checkSame("RMSpropStep", "mom", len(mom), "theta", len(theta))
	} else {
		mom = nil
	}
	if p.Centered {
		checkSame("RMSpropStep", "mg", len(mg), "theta", len(theta))
	} else {
		mg = nil
	}
	if j, parts, threads := splitOptim(len(theta)); j != nil {
		j.kind, j.theta, j.s1, j.s2, j.s3, j.g, j.rmsprop = optimRMSprop, theta, v, mom, mg, g, p
		j.run(j, parts, threads)
		j.finish()
		return
	}
	active.rmspropStep(theta, v, mom, mg, g, p)
}

// AdamStep applies one fused Adam update (see AdamParams) to theta, with
// moments m and v and gradient g. vhat is the running maximum of v, used
// only when p.Amsgrad (else it may be nil).
//
// Like every optimizer step, it splits a large update (from about 330,000
// elements, or from 65,536 right after a product was split over the
// cores, whose blocks of rows it then matches) into blocks over the
// threads SetThreads allows: the update is elementwise, so the result is
// the same bits for any thread count.
func AdamStep(theta, m, v, vhat, g []float32, p AdamParams) {
	checkSame("AdamStep", "m", len(m), "theta", len(theta))
	checkSame("AdamStep", "v", len(v), "theta", len(theta))
	checkSame("AdamStep", "g", len(g), "theta", len(theta))
	if p.Amsgrad {
		checkSame("AdamStep", "vhat", len(vhat), "theta", len(theta))
	} else {
		vhat = nil
	}
	if j, parts, threads := splitOptim(len(theta)); j != nil {
		j.kind, j.theta, j.s1, j.s2, j.s3, j.g, j.adam = optimAdam, theta, m, v, vhat, g, p
		j.run(j, parts, threads)
		j.finish()
		return
	}
	active.adamStep(theta, m, v, vhat, g, p)
}

// SumSquares returns the sum of x[i]², accumulated in float64: the squared
// L2 norm that gradient clipping by norm needs. The squares are exact and
// the additions follow one fixed order on every level (32 interleaved
// partial sums folded pairwise), so the result is the same bits everywhere
// and within (n−1)·2⁻⁵³ relative of the exact sum.
func SumSquares(x []float32) float64 { return active.sumSquares(x) }

// Scale multiplies every element of x by s in place.
func Scale(x []float32, s float32) { active.scale(x, s) }

// Clamp limits every element of x to [lo, hi] in place; NaN stays NaN. It
// panics if lo > hi.
func Clamp(x []float32, lo, hi float32) {
	if lo > hi {
		panic(fmt.Sprintf("kernels: Clamp: lo = %g > hi = %g", lo, hi))
	}
	active.clamp(x, lo, hi)
}

// AllFinite reports whether no element of x is NaN or ±Inf. A large x
// (from about a third of a million elements) is checked on several
// threads (see SetThreads).
func AllFinite(x []float32) bool { return allFinite(x) }
