package optim

import (
	"math"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// Adam is Keras's Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
// epsilon=1e-07, amsgrad=False). Zero fields take those defaults, and Zero
// writes an explicit 0 (see the package doc). With moments m and v (and v̂
// for amsgrad) that start at 0 and t the iteration count plus one, each
// step is, in float32:
//
//	m ← m + (g - m)·(1-β1)
//	v ← v + (g² - v)·(1-β2)
//	α = η·sqrt(1 - β2^t) / (1 - β1^t)
//	amsgrad: v̂ ← max(v̂, v), and v̂ replaces v below
//	θ ← θ - (m·α) / (sqrt(v) + ε)
//
// This is Keras's "ε-hat" form: the bias correction is folded into α and ε
// is outside the square root and not corrected.
//
// m, v and v̂ are stored as +0 when their magnitude falls below 2⁻⁹⁵ ≈
// 2.5e-29 (NaN and ±Inf are kept), and θ's update uses the stored values.
// With g = 0, as for a dead ReLU unit, m shrinks by β1 and v by β2 each
// step; in plain float32 they would pass through the subnormal range and,
// where rounding stops the decay, stay there, and each subnormal result,
// the products m·α, m·(1−β1) and v·(1−β2) of the slots just above it
// included, costs a microcode assist on AMD cores (the step ran three
// times slower). TensorFlow, and so Keras, flushes subnormals to zero on
// CPU; this rule is the same on every kernel level (see the package
// doc); through m/(sqrt(v) + ε) such an m would move a weight by less
// than 3e-22 times the learning rate. 1-β1 and 1-β2 are computed
// in float64 before rounding to float32, as Keras does with Python floats.
//
// The powers are float32 as in TF's tf.pow: the base is float32(β) and t
// is float32(iterations+1). They are computed as math.Pow of those float32
// values, which is exact to far better than float32's precision, and then
// rounded once to float32. That is the correctly rounded float32 power;
// TF's powf (glibc's) is within 1 ulp of it and almost always equal.
//
// Beta1 and Beta2 must lie in [0, 1): with β1 = 1, m stays zero while α
// is infinite, and with β2 = 1 nothing is learned. With β1 = Zero the
// first moment becomes m + (g - m), the last gradient up to rounding, and
// 1 - β1^t is 1 (0^t = 0 for t ≥ 1); β2 = Zero does the same to v, g² and
// 1 - β2^t.
type Adam struct {
	// LearningRate is η; zero means 0.001, Zero means 0.
	LearningRate float64
	// Beta1 is β1, the decay of the first moment; zero means 0.9, Zero
	// means 0.
	Beta1 float64
	// Beta2 is β2, the decay of the second moment; zero means 0.999, Zero
	// means 0.
	Beta2 float64
	// Epsilon is ε; zero means 1e-7, Zero means 0.
	Epsilon float64
	// Amsgrad divides by the running maximum of v rather than by v.
	Amsgrad bool
	// Options are the clipping and weight decay options every optimizer
	// shares.
	Options
}

// Name returns "Adam".
func (Adam) Name() string { return "Adam" }

func (o Adam) withLearningRate(lr float64) Adam {
	o.LearningRate = lr
	return o
}

// withDefaults resolves every float field to the value used (see
// orDefault). The result is not a configuration to build again: an
// explicit zero has become 0, which a field reads as unset.
func (o Adam) withDefaults() Adam {
	o.LearningRate = orDefault(o.LearningRate, 0.001)
	o.Beta1 = orDefault(o.Beta1, 0.9)
	o.Beta2 = orDefault(o.Beta2, 0.999)
	o.Epsilon = orDefault(o.Epsilon, 1e-7)
	return o
}

// String returns the effective configuration as a Keras call, such as
// "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07,
// amsgrad=False)". Shared options appear only when set.
func (o Adam) String() string {
	o = o.withDefaults()
	var b strings.Builder
	b.WriteString("Adam(learning_rate=" + pyFloat(o.LearningRate) +
		", beta_1=" + pyFloat(o.Beta1) +
		", beta_2=" + pyFloat(o.Beta2) +
		", epsilon=" + pyFloat(o.Epsilon) +
		", amsgrad=" + pyBool(o.Amsgrad))
	o.Options.format(&b)
	b.WriteByte(')')
	return b.String()
}

// Build validates the configuration and returns an Updater for tensors of
// the given sizes. The v̂ slot exists only with Amsgrad.
func (o Adam) Build(sizes []int) (Updater, error) {
	v := validator{opt: o.Name()}
	v.nonNegative("LearningRate", o.LearningRate)
	v.unitInterval("Beta1", o.Beta1, true)
	v.unitInterval("Beta2", o.Beta2, true)
	v.nonNegative("Epsilon", o.Epsilon)
	o.Options.check(&v)
	v.sizes(sizes)
	if v.err != nil {
		return nil, v.err
	}
	o = o.withDefaults()
	u := &adamUpdater{
		core:  newCore(o.Name(), sizes, o.LearningRate, o.Options),
		beta1: float32(o.Beta1),
		beta2: float32(o.Beta2),
		p: kernels.AdamParams{
			OneMinusBeta1: float32(1 - o.Beta1),
			OneMinusBeta2: float32(1 - o.Beta2),
			Epsilon:       float32(o.Epsilon),
			Amsgrad:       o.Amsgrad,
		},
		m:    slots(sizes, 0),
		v:    slots(sizes, 0),
		vhat: make([][]float32, len(sizes)),
	}
	if o.Amsgrad {
		u.vhat = slots(sizes, 0)
	}
	u.keep(u.m, u.v, u.vhat)
	return u, nil
}

type adamUpdater struct {
	core
	beta1, beta2 float32
	p            kernels.AdamParams
	m, v, vhat   [][]float32
}

func (u *adamUpdater) Step(params, grads [][]float32) {
	u.begin(params, grads)
	u.p.Alpha = adamAlpha(u.lr, u.beta1, u.beta2, u.iter)
	for i, theta := range params {
		kernels.AdamStep(theta, u.m[i], u.v[i], u.vhat[i], grads[i], u.p)
	}
	u.iter++
}

// adamAlpha is Keras's lr·sqrt(1-β2^t)/(1-β1^t) with t = iter+1, every
// operation rounded to float32 in that order.
func adamAlpha(lr, beta1, beta2 float32, iter int64) float32 {
	t := float32(iter + 1)
	p1 := float32(math.Pow(float64(beta1), float64(t)))
	p2 := float32(math.Pow(float64(beta2), float64(t)))
	// A float64 square root rounded to float32 is the correctly rounded
	// float32 square root (53 ≥ 2·24+2 bits), as TF's sqrt is.
	s := float32(math.Sqrt(float64(1 - p2)))
	return float32(lr*s) / (1 - p1)
}
