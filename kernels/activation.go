package kernels

import (
	"fmt"
	"strings"
)

// Activation selects the activation of DenseForward, BiasActivation and
// ActivationGrad. Its values index the activation table below, which every
// other part of simdmlp (the model's layer names, the command's flags, the
// tests' loops) reads rather than keeping its own list.
type Activation int

// The activations Keras's Dense layer accepts by name in the tutorial.
const (
	ActLinear  Activation = iota // identity: y = x
	ActReLU                      // y = max(x, 0)
	ActSigmoid                   // y = 1 / (1 + exp(-x))
	ActTanh                      // y = tanh(x)
	ActSoftmax                   // per row: y = exp(x - max) / sum(exp(x - max))

	// numActivations sizes the tables indexed by Activation; it stays last.
	numActivations
)

// actKernels is one activation's kernels at one level. Each works on a
// contiguous rows×cols block whose lengths the exported entry points have
// checked; the elementwise activations ignore the shape.
type actKernels struct {
	// forward sets dst = act(x); dst may be x.
	forward func(dst, x []float32, rows, cols int)
	// bias sets x = act(x + bias[j]) in place, column j taking bias[j]:
	// bit for bit AddBias followed by forward.
	bias func(x, bias []float32, rows, cols int)
	// grad sets dx to the gradient through the activation, given the
	// gradient dy with respect to its output y; dx may be dy.
	grad func(dx, dy, y []float32, rows, cols int)
}

// activationInfo describes one activation.
type activationInfo struct {
	// name is Keras's name for it, as Dense(activation=...) takes it.
	name string
	// ref holds the Go reference kernels: the generic level, and what
	// every faster level is tested against. A nil ref.bias is made from
	// refAddBias and ref.forward, which is what it must equal in any case.
	ref actKernels
	// epilogue says that the levels' unpacked GEMM applies the activation
	// as each tile of the output leaves the registers (see smallEpilogue);
	// the others run on the finished rows while they are still in cache.
	epilogue bool
}

// activations is the table of activations. Adding one means a constant
// above, its row here, and its reference in ref.go (DEVELOPERS.md, "How
// to add an activation"); the levels without an assembly version of it
// run the reference, and TestActivationTable fails on a row left empty.
var activations = [numActivations]activationInfo{
	ActLinear: {
		name:     "linear",
		ref:      actKernels{forward: copyForward, bias: refAddBias, grad: copyGrad},
		epilogue: true,
	},
	ActReLU: {
		name:     "relu",
		ref:      actKernels{forward: elementwise(refRelu), bias: refBiasRelu, grad: elementwiseGrad(refReluGrad)},
		epilogue: true,
	},
	ActSigmoid: {
		name: "sigmoid",
		ref:  actKernels{forward: elementwise(refSigmoid), bias: refBiasSigmoid, grad: elementwiseGrad(refSigmoidGrad)},
	},
	ActTanh: {
		name: "tanh",
		ref:  actKernels{forward: elementwise(refTanh), bias: refBiasTanh, grad: elementwiseGrad(refTanhGrad)},
	},
	ActSoftmax: {
		name: "softmax",
		ref:  actKernels{forward: refSoftmax, bias: refBiasSoftmax, grad: refSoftmaxGrad},
	},
}

// String returns the Keras name of the activation.
func (a Activation) String() string {
	if a.valid() {
		return activations[a].name
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

func (a Activation) valid() bool { return a >= 0 && a < numActivations }

// Activations returns every activation, in the order of their constants
// (ActLinear first).
func Activations() []Activation {
	all := make([]Activation, numActivations)
	for i := range all {
		all[i] = Activation(i)
	}
	return all
}

// ActivationNames returns the Keras names of every activation, in the
// order of Activations: for help texts and error messages.
func ActivationNames() []string {
	names := make([]string, numActivations)
	for i := range names {
		names[i] = activations[i].name
	}
	return names
}

// ParseActivation returns the activation with the given Keras name
// ("relu", "sigmoid", …; see ActivationNames). As in Keras, names are
// case-sensitive, and the empty string means no activation, ActLinear.
func ParseActivation(name string) (Activation, error) {
	if name == "" {
		return ActLinear, nil
	}
	for a := range numActivations {
		if activations[a].name == name {
			return a, nil
		}
	}
	return ActLinear, fmt.Errorf("unknown activation %q (valid: %s, or \"\" for linear)",
		name, strings.Join(ActivationNames(), ", "))
}

// mustActivation panics, naming fn, unless act is in the table.
func mustActivation(fn string, act Activation) {
	if !act.valid() {
		panic(fmt.Sprintf("kernels: %s: unknown activation %v", fn, act))
	}
}

// referenceActs returns the generic level's activation kernels.
func referenceActs() [numActivations]actKernels {
	var acts [numActivations]actKernels
	for a, info := range activations {
		k := info.ref
		if k.bias == nil && k.forward != nil {
			k.bias = biasThen(k.forward)
		}
		acts[a] = k
	}
	return acts
}

// elementwise adapts a kernel of the form f(dst, x) to actKernels.forward.
func elementwise(f func(dst, x []float32)) func(dst, x []float32, rows, cols int) {
	return func(dst, x []float32, _, _ int) { f(dst, x) }
}

// elementwiseGrad adapts a gradient of the form f(dx, dy, y) to
// actKernels.grad.
func elementwiseGrad(f func(dx, dy, y []float32)) func(dx, dy, y []float32, rows, cols int) {
	return func(dx, dy, y []float32, _, _ int) { f(dx, dy, y) }
}

// biasThen is the bias kernel of an activation that has none of its own:
// AddBias, then the activation in place.
func biasThen(forward func(dst, x []float32, rows, cols int)) func(x, bias []float32, rows, cols int) {
	return func(x, bias []float32, rows, cols int) {
		refAddBias(x, bias, rows, cols)
		forward(x, x, rows, cols)
	}
}

func copyForward(dst, x []float32, _, _ int) { copy(dst, x) }

func copyGrad(dx, dy, _ []float32, _, _ int) { copy(dx, dy) }
