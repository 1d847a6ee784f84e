package optim

import (
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// Adagrad is Keras's Adagrad(learning_rate=0.001,
// initial_accumulator_value=0.1, epsilon=1e-07). Zero fields take those
// defaults, and Zero writes an explicit 0 (see the package doc). With an
// accumulator a that starts at the initial value, each step is, in
// float32:
//
//	a ← a + g²
//	θ ← θ - η·g / sqrt(a + ε)
//
// ε sits inside the square root, as in Keras. The accumulator only grows,
// so unlike the other optimizers' slots it never decays into the subnormal
// range and is stored exactly as computed (see the package doc). With both the initial value
// and ε at Zero, the first step is θ ← θ - η·g/|g|, and 0/0 = NaN where g
// is zero, as in Keras.
type Adagrad struct {
	// LearningRate is η; zero means 0.001, Zero means 0.
	LearningRate float64
	// InitialAccumulatorValue is the starting value of a; zero means 0.1,
	// Zero means 0.
	InitialAccumulatorValue float64
	// Epsilon is ε; zero means 1e-7, Zero means 0.
	Epsilon float64
	// Options are the clipping and weight decay options every optimizer
	// shares.
	Options
}

// Name returns "Adagrad".
func (Adagrad) Name() string { return "Adagrad" }

func (o Adagrad) withLearningRate(lr float64) Adagrad {
	o.LearningRate = lr
	return o
}

// withDefaults resolves every float field to the value used (see
// orDefault). The result is not a configuration to build again: an
// explicit zero has become 0, which a field reads as unset.
func (o Adagrad) withDefaults() Adagrad {
	o.LearningRate = orDefault(o.LearningRate, 0.001)
	o.InitialAccumulatorValue = orDefault(o.InitialAccumulatorValue, 0.1)
	o.Epsilon = orDefault(o.Epsilon, 1e-7)
	return o
}

// String returns the effective configuration as a Keras call, such as
// "Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
// epsilon=1e-07)". Shared options appear only when set.
func (o Adagrad) String() string {
	o = o.withDefaults()
	var b strings.Builder
	b.WriteString("Adagrad(learning_rate=" + pyFloat(o.LearningRate) +
		", initial_accumulator_value=" + pyFloat(o.InitialAccumulatorValue) +
		", epsilon=" + pyFloat(o.Epsilon))
	o.Options.format(&b)
	b.WriteByte(')')
	return b.String()
}

// Build validates the configuration and returns an Updater for tensors of
// the given sizes, its accumulators filled with InitialAccumulatorValue.
func (o Adagrad) Build(sizes []int) (Updater, error) {
	v := validator{opt: o.Name()}
	v.nonNegative("LearningRate", o.LearningRate)
	v.nonNegative("InitialAccumulatorValue", o.InitialAccumulatorValue)
	v.nonNegative("Epsilon", o.Epsilon)
	o.Options.check(&v)
	v.sizes(sizes)
	if v.err != nil {
		return nil, v.err
	}
	o = o.withDefaults()
	u := &adagradUpdater{
		core: newCore(o.Name(), sizes, o.LearningRate, o.Options),
		p: kernels.AdagradParams{
			LR:      float32(o.LearningRate),
			Epsilon: float32(o.Epsilon),
		},
		acc: slots(sizes, float32(o.InitialAccumulatorValue)),
	}
	u.keep(u.acc)
	return u, nil
}

type adagradUpdater struct {
	core
	p   kernels.AdagradParams
	acc [][]float32
}

func (u *adagradUpdater) Step(params, grads [][]float32) {
	u.begin(params, grads)
	for i, theta := range params {
		kernels.AdagradStep(theta, u.acc[i], grads[i], u.p)
	}
	u.iter++
}
