// Package optim holds the optimizers of simdmlp with Keras 2.14's defaults
// and formulas: SGD (with momentum and Nesterov), Adagrad, RMSprop (with
// momentum and centered) and Adam (with amsgrad). Each optimizer is a plain
// configuration value whose zero fields mean Keras's defaults, so
// optim.Adam{} is keras.optimizers.Adam(). Build turns a configuration into
// an Updater holding the slots and the iteration count; every update runs
// through the fused step kernels of package kernels and allocates nothing.
//
// # Zero means default
//
// A zero field takes Keras's default: Adam{LearningRate: 0.01} is
// Adam(learning_rate=0.01) with beta_1=0.9 and so on. To ask for an
// explicit zero, write the constant Zero instead: RMSprop{Rho: optim.Zero}
// is RMSprop(rho=0.0), Adam{Beta1: optim.Zero} is Adam(beta_1=0.0) and
// SGD{LearningRate: optim.Zero} is SGD(learning_rate=0.0). Zero works in
// every float64 field, including those whose default is already zero
// (momentum and the shared Options), where it means what 0.0 means to
// Keras; see Options for where that differs from leaving them unset.
// String prints it as 0.0, and Build and Step use exactly 0 wherever the
// field enters the arithmetic. An explicit zero is taken at its word: ε = 0
// lets a step divide by zero (giving NaN or ±Inf) where Keras's would.
//
// Negative, NaN and infinite values, and values that overflow float32, are
// rejected by Build. Any other value is used as given; a tiny one such as
// 1e-50 rounds to float32 zero where it is converted, but unlike Zero it
// is not 0 in the float64 arithmetic Keras does first, nor in String.
//
// # Numerics
//
// The fields are float64 because Keras's hyperparameters are Python floats:
// Keras converts each to float32 only where it is used, sometimes after
// float64 arithmetic. RMSprop's 1-ρ and Adam's 1-β are computed in float64
// and then rounded, so ρ = 0.9 gives float32(0.1), not 1-float32(0.9),
// which is 3 ulps larger (for β2 = 0.999 the two differ by 111 ulps).
// Everything else is float32 in Keras's operation order; see each
// optimizer for its formula.
//
// One rule departs from plain float32 arithmetic: a slot that decays (SGD's
// momentum, RMSprop's velocity, momentum and average gradient, Adam's m, v
// and v̂) is stored as +0 when its magnitude falls below 2⁻⁹⁵ ≈ 2.5e-29, so
// it never holds a subnormal or −0 and its products with the step's
// factors are never subnormal either (NaN and ±Inf are kept), and the step
// goes on with that stored value. TensorFlow,
// and so Keras, runs on CPU with flush-to-zero and denormals-are-zero,
// which never stores such a slot either, and arithmetic on subnormals
// costs a microcode assist per result on AMD cores: a dead unit's decaying
// moments made Adam's step three times slower. The rule is the same bits
// on every kernel level and architecture (kernels.SGDParams has the
// details); Adagrad's accumulator, which only grows, is stored as
// computed.
//
// Every Step applies, in Keras's order: gradient clipping (Clipnorm, else
// GlobalClipnorm, else Clipvalue; see Options), decoupled weight decay, the
// update of every tensor with the same iteration count, and finally
// iterations += 1.
package optim

import (
	"fmt"
	"strings"
)

// Zero is the value that writes an explicit zero into a float64 field of
// an optimizer or of Options, where 0 itself means Keras's default:
// RMSprop{Rho: optim.Zero} is keras.optimizers.RMSprop(rho=0.0). It is the
// smallest positive float64 (math.SmallestNonzeroFloat64), a value nobody
// writes by accident: being positive and finite it passes every range
// check, and being a constant it fits in a struct literal. Every place that
// reads a field turns Zero into exactly 0 before using it. MarshalConfig
// writes it as the JSON number 5e-324, which UnmarshalConfig reads back as
// Zero.
const Zero = 0x1p-1074

// Optimizer is an optimizer configuration, such as Adam{} or
// SGD{LearningRate: 0.1}. It is what mlp's Compile accepts. SGD, Adagrad,
// RMSprop and Adam implement it, and print their effective configuration
// (defaults filled in) with String.
type Optimizer interface {
	// Name returns Keras's class name, such as "Adam" or "RMSprop".
	Name() string
	// Build validates the configuration and returns a fresh Updater
	// (iterations 0, slots at their initial values) for parameters of
	// the given lengths, in the order Step will receive them.
	Build(sizes []int) (Updater, error)
}

// Updater applies an optimizer to one fixed list of parameter tensors.
type Updater interface {
	// Step applies one update: params[i] moves along grads[i]. Clipping
	// may rewrite grads in place. len(params) and each length must match
	// the sizes given to Build; Step panics otherwise, as the kernels do.
	Step(params, grads [][]float32)
	// Iterations returns how many steps have been applied.
	Iterations() int64
}

// MaxIterations is the largest iteration count an Updater reaches:
// SetState refuses a larger one, and Step panics rather than go past it
// (mlp's Fit checks its steps against it before it starts). It is 2⁵³,
// the last count a float64 holds exactly; Adam's bias correction turns the
// count into a float. At one step per nanosecond it is 104 days of
// training.
const MaxIterations int64 = 1 << 53

// DefaultName is the optimizer Keras's compile uses when it is given none:
// "rmsprop", that is RMSprop{}.
const DefaultName = "rmsprop"

// ByName returns the optimizer Keras's compile builds from a string, with
// default arguments: "sgd", "adagrad", "rmsprop" or "adam" (see Names). Case does not
// matter, as in Keras, so "Adam" and "RMSprop" work too. The other names
// Keras knows (adadelta, adamax, nadam, ftrl, adamw, lion, adafactor) give
// an error saying they are not implemented; anything else gives an error
// listing the valid names.
func ByName(name string) (Optimizer, error) {
	lower := strings.ToLower(name)
	for _, e := range registry {
		if e.name == lower {
			return e.zero, nil
		}
	}
	if class, ok := notImplemented[lower]; ok {
		return nil, fmt.Errorf("optim: optimizer %q (Keras's %s) is not implemented; implemented: %s",
			name, class, validNames())
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q; valid names (any case): %s", name, validNames())
}

func validNames() string {
	var b strings.Builder
	for i, e := range registry {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", e.name)
	}
	return b.String()
}
