package optim

import (
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// RMSprop is Keras's RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0,
// epsilon=1e-07, centered=False), the optimizer Keras's compile picks when
// given none. Zero fields take those defaults, and Zero writes an explicit
// 0 (see the package doc). With slots v, ḡ and mom that start at 0, each
// step is, in float32:
//
//	v ← ρ·v + (1-ρ)·g²
//	centered:  ḡ ← ρ·ḡ + (1-ρ)·g;  d = v - ḡ² + ε
//	otherwise: d = v + ε
//	inc = η·g·rsqrt(d)
//	Momentum > 0: mom ← Momentum·mom + inc;  θ ← θ - mom
//	otherwise:    θ ← θ - inc
//
// ε sits inside the square root, as in Keras, and 1-ρ is computed in
// float64 before rounding to float32. v, ḡ and mom are stored as +0 when
// their magnitude falls below 2⁻⁹⁵ ≈ 2.5e-29 (NaN and ±Inf are kept; see
// the package doc), and the rest of the step uses the stored values: with a
// zero gradient they decay by ρ or the momentum each step and would
// otherwise pass through the subnormal range, where each result costs a
// microcode assist on AMD cores; TensorFlow, and so Keras, flushes
// subnormals to zero on CPU too (see the package doc). Rho and Momentum must lie in [0, 1];
// Keras checks neither, but ρ > 1 makes v negative and d NaN. With
// ρ = Zero there is no moving average: v = g² and ḡ = g at every step.
type RMSprop struct {
	// LearningRate is η; zero means 0.001, Zero means 0.
	LearningRate float64
	// Rho is ρ, the decay of the moving averages; zero means 0.9, Zero
	// means 0 (1-ρ is then exactly 1).
	Rho float64
	// Momentum is the momentum coefficient; zero and Zero both mean no
	// momentum (and no momentum slot).
	Momentum float64
	// Epsilon is ε; zero means 1e-7, Zero means 0.
	Epsilon float64
	// Centered divides by the estimated variance rather than the raw
	// second moment.
	Centered bool
	// Options are the clipping and weight decay options every optimizer
	// shares.
	Options
}

// Name returns "RMSprop".
func (RMSprop) Name() string { return "RMSprop" }

func (o RMSprop) withLearningRate(lr float64) RMSprop {
	o.LearningRate = lr
	return o
}

// withDefaults resolves every float field to the value used (see
// orDefault). The result is not a configuration to build again: an
// explicit zero has become 0, which a field reads as unset.
func (o RMSprop) withDefaults() RMSprop {
	o.LearningRate = orDefault(o.LearningRate, 0.001)
	o.Rho = orDefault(o.Rho, 0.9)
	o.Momentum = value(o.Momentum)
	o.Epsilon = orDefault(o.Epsilon, 1e-7)
	return o
}

// String returns the effective configuration as a Keras call, such as
// "RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07,
// centered=False)". Shared options appear only when set.
func (o RMSprop) String() string {
	o = o.withDefaults()
	var b strings.Builder
	b.WriteString("RMSprop(learning_rate=" + pyFloat(o.LearningRate) +
		", rho=" + pyFloat(o.Rho) +
		", momentum=" + pyFloat(o.Momentum) +
		", epsilon=" + pyFloat(o.Epsilon) +
		", centered=" + pyBool(o.Centered))
	o.Options.format(&b)
	b.WriteByte(')')
	return b.String()
}

// Build validates the configuration and returns an Updater for tensors of
// the given sizes. As in Keras, the momentum slot exists only when
// Momentum > 0 and the mean-gradient slot only when Centered.
func (o RMSprop) Build(sizes []int) (Updater, error) {
	v := validator{opt: o.Name()}
	v.nonNegative("LearningRate", o.LearningRate)
	v.unitInterval("Rho", o.Rho, false)
	v.unitInterval("Momentum", o.Momentum, false)
	v.nonNegative("Epsilon", o.Epsilon)
	o.Options.check(&v)
	v.sizes(sizes)
	if v.err != nil {
		return nil, v.err
	}
	o = o.withDefaults()
	u := &rmspropUpdater{
		core: newCore(o.Name(), sizes, o.LearningRate, o.Options),
		p: kernels.RMSpropParams{
			LR:          float32(o.LearningRate),
			Rho:         float32(o.Rho),
			OneMinusRho: float32(1 - o.Rho),
			Momentum:    float32(o.Momentum),
			Epsilon:     float32(o.Epsilon),
			Centered:    o.Centered,
		},
		v: slots(sizes, 0),
		// Absent slots stay nil per tensor, which the kernel accepts.
		mom: make([][]float32, len(sizes)),
		mg:  make([][]float32, len(sizes)),
	}
	// Keras tests the float64, so a momentum that rounds to float32 zero
	// gets a slot there but none here: the kernel ignores mom when its
	// Momentum is 0, which gives the same result since 0·mom + inc = inc.
	if o.Momentum > 0 && u.p.Momentum > 0 {
		u.mom = slots(sizes, 0)
	}
	if o.Centered {
		u.mg = slots(sizes, 0)
	}
	u.keep(u.v, u.mom, u.mg)
	return u, nil
}

type rmspropUpdater struct {
	core
	p          kernels.RMSpropParams
	v, mom, mg [][]float32
}

func (u *rmspropUpdater) Step(params, grads [][]float32) {
	u.begin(params, grads)
	for i, theta := range params {
		kernels.RMSpropStep(theta, u.v[i], u.mom[i], u.mg[i], grads[i], u.p)
	}
	u.iter++
}
