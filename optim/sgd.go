package optim

import (
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// SGD is Keras's SGD(learning_rate=0.01, momentum=0.0, nesterov=False):
// gradient descent with optional (Nesterov) momentum. Zero fields take
// those defaults, and Zero writes an explicit 0 (see the package doc).
// With m a slot that starts at 0 and η the learning rate, each step is, in
// float32:
//
//	m ← -η·g + μ·m
//	θ ← θ + m               (Nesterov false)
//	θ ← θ + (-η·g + μ·m)    (Nesterov true, with the new m)
//
// With μ = 0 that is exactly θ ← θ - η·g, except that m, and so the
// update, is stored as +0 when its magnitude is below 2⁻⁹⁵ ≈ 2.5e-29 (NaN
// and ±Inf are kept; see the package doc), which moves only a weight
// within about 2⁻⁷¹ of zero: with a zero gradient m decays by
// μ a step and would otherwise sit in the subnormal range, where every
// result costs a microcode assist on AMD cores; TensorFlow, and so Keras,
// flushes subnormals to zero on CPU too (see the package doc). Momentum
// must lie in [0, 1].
type SGD struct {
	// LearningRate is η; zero means 0.01. Zero makes it 0: finite
	// parameters then never move, weight decay included, since it too is
	// scaled by η.
	LearningRate float64
	// Momentum is μ; zero and Zero both mean no momentum.
	Momentum float64
	// Nesterov selects Nesterov momentum.
	Nesterov bool
	// Options are the clipping and weight decay options every optimizer
	// shares.
	Options
}

// Name returns "SGD".
func (SGD) Name() string { return "SGD" }

func (o SGD) withLearningRate(lr float64) SGD {
	o.LearningRate = lr
	return o
}

// withDefaults resolves every float field to the value used (see
// orDefault). The result is not a configuration to build again: an
// explicit zero has become 0, which a field reads as unset.
func (o SGD) withDefaults() SGD {
	o.LearningRate = orDefault(o.LearningRate, 0.01)
	o.Momentum = value(o.Momentum)
	return o
}

// String returns the effective configuration as a Keras call, such as
// "SGD(learning_rate=0.01, momentum=0.9, nesterov=True)". Shared options
// appear only when set.
func (o SGD) String() string {
	o = o.withDefaults()
	var b strings.Builder
	b.WriteString("SGD(learning_rate=" + pyFloat(o.LearningRate) +
		", momentum=" + pyFloat(o.Momentum) +
		", nesterov=" + pyBool(o.Nesterov))
	o.Options.format(&b)
	b.WriteByte(')')
	return b.String()
}

// Build validates the configuration and returns an Updater for tensors of
// the given sizes. As in Keras, the momentum slot exists even when
// Momentum is 0.
func (o SGD) Build(sizes []int) (Updater, error) {
	v := validator{opt: o.Name()}
	v.nonNegative("LearningRate", o.LearningRate)
	v.unitInterval("Momentum", o.Momentum, false)
	o.Options.check(&v)
	v.sizes(sizes)
	if v.err != nil {
		return nil, v.err
	}
	o = o.withDefaults()
	u := &sgdUpdater{
		core: newCore(o.Name(), sizes, o.LearningRate, o.Options),
		p: kernels.SGDParams{
			LR:       float32(o.LearningRate),
			Momentum: float32(o.Momentum),
			Nesterov: o.Nesterov,
		},
		m: slots(sizes, 0),
	}
	u.keep(u.m)
	return u, nil
}

type sgdUpdater struct {
	core
	p kernels.SGDParams
	m [][]float32
}

func (u *sgdUpdater) Step(params, grads [][]float32) {
	u.begin(params, grads)
	for i, theta := range params {
		kernels.SGDStep(theta, u.m[i], grads[i], u.p)
	}
	u.iter++
}
