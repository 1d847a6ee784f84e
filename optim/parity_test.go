package optim

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// The tests in this file step an Updater and a straightforward float32
// transcription of Keras 2.14's formulas (keras-parity.md §9) side by side
// and compare them after every step. The transcription calls no kernel and
// none of this package's helpers: it writes every operation out with an
// explicit float32 rounding, in Keras's order, and derives every float32
// constant from the float64 configuration as Keras does.
//
// Tolerance: every slot that no square root touches (SGD's m, Adagrad's
// accumulator, RMSprop's v and ḡ, Adam's m, v and v̂) and every clipped
// gradient must be bit-identical. Where a square root or reciprocal square
// root enters (θ for Adagrad, RMSprop and Adam, and RMSprop's momentum
// slot), the kernel's root may be up to 1 ulp away from the correctly
// rounded one: vector units' rsqrt refined by Newton steps lands there, and
// so does 1/sqrt(d) rounded twice. So the test computes the new value with
// the correctly rounded root moved 1 ulp down and 1 ulp up; since every
// later operation is monotonic, the kernel's value must lie between the
// two. It then copies the kernel's value into the transcription so that
// the next step starts from the same state.

// pinGeneric runs the test on the generic kernels: their float32
// operations follow Keras's order one rounding at a time, which the exact
// comparisons rely on. Each assembly level is tested against the generic
// one in package kernels.
func pinGeneric(t *testing.T) {
	t.Helper()
	restore, err := kernels.Use("generic")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
}

// kerasRef is the transcription. Its hyperparameters are set by newKerasRef
// from a configuration, applying Keras's defaults written out again here.
type kerasRef struct {
	kind string
	lr   float32

	sgdMu    float32
	nesterov bool

	eps float32

	rho, oneMinusRho, rmsMu float32
	centered                bool

	b1, b2, oneMinusB1, oneMinusB2 float32
	amsgrad                        bool

	// opts holds the shared options as Keras uses them (an explicit zero
	// as 0); decays is whether weight_decay is not None.
	opts   Options
	decays bool
	iter   int64

	m, v, vhat, acc, mom, mg [][]float32
}

// def applies a default: the configuration's 0 is Keras's default and
// Zero is Keras's 0.0.
func def(x, d float64) float64 {
	switch x {
	case 0:
		return d
	case Zero:
		return 0
	}
	return x
}

// kerasOptions returns the shared options as Keras sees them, and whether
// it decays the weights (weight_decay is not None).
func kerasOptions(o Options) (Options, bool) {
	return Options{
		WeightDecay:    def(o.WeightDecay, 0),
		Clipnorm:       def(o.Clipnorm, 0),
		Clipvalue:      def(o.Clipvalue, 0),
		GlobalClipnorm: def(o.GlobalClipnorm, 0),
	}, o.WeightDecay != 0
}

func zeros(sizes []int, fill float32) [][]float32 {
	s := make([][]float32, len(sizes))
	for i, n := range sizes {
		s[i] = make([]float32, n)
		for j := range s[i] {
			s[i][j] = fill
		}
	}
	return s
}

func newKerasRef(o Optimizer, sizes []int) *kerasRef {
	r := &kerasRef{}
	switch c := o.(type) {
	case SGD:
		r.kind = "SGD"
		r.opts, r.decays = kerasOptions(c.Options)
		r.lr = float32(def(c.LearningRate, 0.01))
		r.sgdMu, r.nesterov = float32(def(c.Momentum, 0)), c.Nesterov
		r.m = zeros(sizes, 0)
	case Adagrad:
		r.kind = "Adagrad"
		r.opts, r.decays = kerasOptions(c.Options)
		r.lr = float32(def(c.LearningRate, 0.001))
		r.eps = float32(def(c.Epsilon, 1e-7))
		r.acc = zeros(sizes, float32(def(c.InitialAccumulatorValue, 0.1)))
	case RMSprop:
		r.kind = "RMSprop"
		r.opts, r.decays = kerasOptions(c.Options)
		r.lr = float32(def(c.LearningRate, 0.001))
		rho := def(c.Rho, 0.9)
		r.rho, r.oneMinusRho = float32(rho), float32(1-rho)
		r.rmsMu, r.centered = float32(def(c.Momentum, 0)), c.Centered
		r.eps = float32(def(c.Epsilon, 1e-7))
		r.v, r.mom, r.mg = zeros(sizes, 0), zeros(sizes, 0), zeros(sizes, 0)
	case Adam:
		r.kind = "Adam"
		r.opts, r.decays = kerasOptions(c.Options)
		r.lr = float32(def(c.LearningRate, 0.001))
		b1, b2 := def(c.Beta1, 0.9), def(c.Beta2, 0.999)
		r.b1, r.b2 = float32(b1), float32(b2)
		r.oneMinusB1, r.oneMinusB2 = float32(1-b1), float32(1-b2)
		r.eps = float32(def(c.Epsilon, 1e-7))
		r.amsgrad = c.Amsgrad
		r.m, r.v, r.vhat = zeros(sizes, 0), zeros(sizes, 0), zeros(sizes, 0)
	default:
		panic("newKerasRef: unknown optimizer")
	}
	return r
}

// clip is Keras's _clip_gradients with this package's documented
// rounding: norms in float64, one float32 scale factor.
func (r *kerasRef) clip(grads [][]float32) {
	scale := func(g []float32, s float32) {
		for j := range g {
			g[j] *= s
		}
	}
	sumSq := func(g []float32) float64 {
		var s float64
		for _, x := range g {
			s += float64(x) * float64(x)
		}
		return s
	}
	switch {
	case r.opts.Clipnorm > 0:
		c := float64(float32(r.opts.Clipnorm))
		for _, g := range grads {
			if n := math.Sqrt(sumSq(g)); !(n <= c) {
				scale(g, float32(c/n))
			}
		}
	case r.opts.GlobalClipnorm > 0:
		c := float64(float32(r.opts.GlobalClipnorm))
		var ss float64
		for _, g := range grads {
			ss += sumSq(g)
		}
		n := math.Sqrt(ss)
		s := float32(c / n)
		if math.IsInf(n, 0) || math.IsNaN(n) {
			s = float32(math.NaN())
		}
		if !(n <= c) {
			for _, g := range grads {
				scale(g, s)
			}
		}
	case r.opts.Clipvalue > 0:
		c := float32(r.opts.Clipvalue)
		for _, g := range grads {
			for j, x := range g {
				if x > c {
					g[j] = c
				} else if x < -c {
					g[j] = -c
				}
			}
		}
	}
}

// decay is Keras's _apply_weight_decay: θ ← θ - (θ·wd)·lr in float32.
func (r *kerasRef) decay(params [][]float32) {
	if !r.decays {
		return
	}
	wd := float32(r.opts.WeightDecay)
	for _, p := range params {
		for j := range p {
			p[j] = p[j] - float32(float32(p[j]*wd)*r.lr)
		}
	}
}

// f32pow returns float32(b)^t correctly rounded to float32, computed
// exactly with big.Float (t is a small positive integer).
func f32pow(b float32, t int64) float32 {
	x := new(big.Float).SetPrec(4096).SetFloat64(float64(b))
	p := new(big.Float).SetPrec(4096).SetFloat64(1)
	for range t {
		p.Mul(p, x)
	}
	f, _ := p.Float32()
	return f
}

// f32sqrt returns the correctly rounded float32 square root of x ≥ 0,
// computed with big.Float.
func f32sqrt(x float32) float32 {
	if x == 0 {
		return 0
	}
	b := new(big.Float).SetPrec(200).SetFloat64(float64(x))
	f, _ := b.Sqrt(b).Float32()
	return f
}

// ulps moves x by d ulps (d in {-1, 0, 1}).
func ulps(x float32, d int) float32 {
	switch d {
	case -1:
		return math.Nextafter32(x, float32(math.Inf(-1)))
	case 1:
		return math.Nextafter32(x, float32(math.Inf(1)))
	}
	return x
}

// rsqrtCR is the correctly rounded float32 1/sqrt(x), for x > 0.
func rsqrtCR(x float32) float32 {
	b := new(big.Float).SetPrec(200).SetFloat64(float64(x))
	b.Sqrt(b)
	b.Quo(new(big.Float).SetPrec(200).SetFloat64(1), b)
	f, _ := b.Float32()
	return f
}

// bracket returns the smaller and larger of a and b.
func bracket(a, b float32) (lo, hi float32) {
	if a > b {
		return b, a
	}
	return a, b
}

// stepper exposes an Updater's state to the comparison.
type stepper struct {
	t    *testing.T
	name string
	step int
}

func (s *stepper) exact(what string, i, j int, got, want float32) {
	s.t.Helper()
	if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
		s.t.Fatalf("%s step %d: %s[%d][%d] = %v (%#08x), want %v (%#08x)",
			s.name, s.step, what, i, j, got, math.Float32bits(got), want, math.Float32bits(want))
	}
}

func (s *stepper) within(what string, i, j int, got, a, b float32) {
	s.t.Helper()
	lo, hi := bracket(a, b)
	if got != got && lo != lo && hi != hi {
		return
	}
	if !(lo <= got && got <= hi) {
		s.t.Fatalf("%s step %d: %s[%d][%d] = %v, want within [%v, %v] (square root within 1 ulp)",
			s.name, s.step, what, i, j, got, lo, hi)
	}
}

// update applies one update to the transcription and compares it with the
// updater u, which has already taken the same step. params are the
// transcription's parameters; ours are u's.
func (r *kerasRef) update(s *stepper, u Updater, params, ours, grads [][]float32) {
	s.t.Helper()
	switch r.kind {
	case "SGD":
		uu := u.(*sgdUpdater)
		lr, mu := r.lr, r.sgdMu
		for i, p := range params {
			for j, g := range grads[i] {
				m := float32(-g*lr) + float32(r.m[i][j]*mu)
				if r.nesterov {
					p[j] = p[j] + (float32(-g*lr) + float32(m*mu))
				} else {
					p[j] = p[j] + m
				}
				r.m[i][j] = m
				s.exact("m", i, j, uu.m[i][j], m)
				s.exact("θ", i, j, ours[i][j], p[j])
			}
		}
	case "Adagrad":
		uu := u.(*adagradUpdater)
		for i, p := range params {
			for j, g := range grads[i] {
				a := r.acc[i][j] + float32(g*g)
				r.acc[i][j] = a
				s.exact("acc", i, j, uu.acc[i][j], a)
				num := float32(r.lr * g)
				sq := f32sqrt(a + r.eps)
				s.within("θ", i, j, ours[i][j], p[j]-num/ulps(sq, -1), p[j]-num/ulps(sq, 1))
				p[j] = ours[i][j]
			}
		}
	case "RMSprop":
		uu := u.(*rmspropUpdater)
		for i, p := range params {
			for j, g := range grads[i] {
				v := float32(r.rho*r.v[i][j]) + float32(r.oneMinusRho*float32(g*g))
				r.v[i][j] = v
				s.exact("v", i, j, uu.v[i][j], v)
				var d float32
				if r.centered {
					mg := float32(r.rho*r.mg[i][j]) + float32(r.oneMinusRho*g)
					r.mg[i][j] = mg
					s.exact("ḡ", i, j, uu.mg[i][j], mg)
					d = (v - float32(mg*mg)) + r.eps
				} else {
					d = v + r.eps
				}
				rs := rsqrtCR(d)
				inc := func(dir int) float32 { return float32(float32(r.lr*g) * ulps(rs, dir)) }
				if r.rmsMu > 0 {
					mom := func(dir int) float32 { return float32(r.rmsMu*r.mom[i][j]) + inc(dir) }
					s.within("mom", i, j, uu.mom[i][j], mom(-1), mom(1))
					s.within("θ", i, j, ours[i][j], p[j]-mom(-1), p[j]-mom(1))
					r.mom[i][j] = uu.mom[i][j]
				} else {
					s.within("θ", i, j, ours[i][j], p[j]-inc(-1), p[j]-inc(1))
				}
				p[j] = ours[i][j]
			}
		}
	case "Adam":
		uu := u.(*adamUpdater)
		tt := r.iter + 1
		p1, p2 := f32pow(r.b1, tt), f32pow(r.b2, tt)
		alpha := float32(r.lr*f32sqrt(1-p2)) / (1 - p1)
		for i, p := range params {
			for j, g := range grads[i] {
				m := r.m[i][j] + float32(float32(g-r.m[i][j])*r.oneMinusB1)
				v := r.v[i][j] + float32(float32(float32(g*g)-r.v[i][j])*r.oneMinusB2)
				r.m[i][j], r.v[i][j] = m, v
				s.exact("m", i, j, uu.m[i][j], m)
				s.exact("v", i, j, uu.v[i][j], v)
				if r.amsgrad {
					r.vhat[i][j] = max(r.vhat[i][j], v)
					s.exact("v̂", i, j, uu.vhat[i][j], r.vhat[i][j])
					v = r.vhat[i][j]
				}
				num := float32(m * alpha)
				sq := f32sqrt(v)
				theta := func(dir int) float32 { return p[j] - num/(ulps(sq, dir)+r.eps) }
				s.within("θ", i, j, ours[i][j], theta(-1), theta(1))
				p[j] = ours[i][j]
			}
		}
	}
	r.iter++
	if u.Iterations() != r.iter {
		s.t.Fatalf("%s step %d: Iterations() = %d, want %d", s.name, s.step, u.Iterations(), r.iter)
	}
}

func clone(x [][]float32) [][]float32 {
	c := make([][]float32, len(x))
	for i := range x {
		c[i] = append([]float32(nil), x[i]...)
	}
	return c
}

// withOptions returns o with its shared options replaced.
func withOptions(o Optimizer, opts Options) Optimizer {
	switch c := o.(type) {
	case SGD:
		c.Options = opts
		return c
	case Adagrad:
		c.Options = opts
		return c
	case RMSprop:
		c.Options = opts
		return c
	case Adam:
		c.Options = opts
		return c
	}
	panic("withOptions: unknown optimizer")
}

var parityConfigs = []Optimizer{
	SGD{},
	SGD{LearningRate: 0.1},
	SGD{Momentum: 0.9},
	SGD{Momentum: 0.9, Nesterov: true},
	SGD{Nesterov: true},
	SGD{LearningRate: 0.05, Momentum: 1},
	Adagrad{},
	Adagrad{LearningRate: 0.05, InitialAccumulatorValue: 0.5, Epsilon: 1e-3},
	RMSprop{},
	RMSprop{Centered: true},
	RMSprop{Momentum: 0.9},
	RMSprop{LearningRate: 0.01, Rho: 0.8, Momentum: 0.5, Epsilon: 1e-4, Centered: true},
	Adam{},
	Adam{Amsgrad: true},
	Adam{LearningRate: 0.01, Beta1: 0.8, Beta2: 0.99, Epsilon: 1e-3},
	Adam{LearningRate: 0.02, Beta1: 0.5, Beta2: 0.75, Amsgrad: true},
	// Explicit zeros. ε = 0 only where no denominator can come near 0:
	// the gradients are never exactly zero, but v - ḡ² (centered) can
	// round to 0 or below, and so can Adam's v + (g² - v) with β2 = 0,
	// after a large gradient followed by a small one.
	SGD{LearningRate: Zero, Momentum: 0.9},
	SGD{Momentum: Zero, Nesterov: true},
	Adagrad{InitialAccumulatorValue: Zero},
	Adagrad{LearningRate: 0.05, InitialAccumulatorValue: Zero, Epsilon: Zero},
	RMSprop{Rho: Zero},
	RMSprop{Rho: Zero, Momentum: 0.5, Centered: true},
	RMSprop{Momentum: Zero, Epsilon: Zero},
	RMSprop{LearningRate: Zero, Momentum: 0.9},
	Adam{Beta1: Zero},
	Adam{Beta2: Zero, Amsgrad: true},
	Adam{LearningRate: 0.01, Beta1: Zero, Beta2: Zero},
	Adam{Epsilon: Zero, Amsgrad: true},
	Adam{LearningRate: Zero},
}

var parityOptions = []Options{
	{},
	{Clipnorm: 1},
	{GlobalClipnorm: 2},
	{Clipvalue: 0.5},
	{WeightDecay: 0.004},
	{WeightDecay: 3},
	{Clipnorm: 1.5, Clipvalue: 0.1}, // clipvalue ignored
	{GlobalClipnorm: 2.5, Clipvalue: 0.3, WeightDecay: 0.01}, // clipvalue ignored
	// Explicit zeros: decay by 0 still runs; a clipnorm of 0 clips
	// nothing and leaves the next clipping mode its turn.
	{WeightDecay: Zero},
	{Clipnorm: Zero, Clipvalue: 0.5},
	{GlobalClipnorm: Zero, Clipvalue: Zero, WeightDecay: 0.01},
}

// paritySizes includes a one-element and an empty tensor.
var paritySizes = []int{7, 1, 0, 33}

// gradScales vary the gradients' size from step to step, so that Adam's v
// falls as well as rises (v̂ then matters) and clipping is sometimes active
// and sometimes not.
var gradScales = []float32{1, 3, 0.1, 0.01, 2, 0.001, 0.5}

func randTensors(rng *rand.Rand, sizes []int, scale float32) [][]float32 {
	x := make([][]float32, len(sizes))
	for i, n := range sizes {
		x[i] = make([]float32, n)
		for j := range x[i] {
			x[i][j] = float32(rng.NormFloat64()) * scale
		}
	}
	return x
}

func TestParityWithKerasFormulas(t *testing.T) {
	pinGeneric(t)
	for _, base := range parityConfigs {
		for _, opts := range parityOptions {
			o := withOptions(base, opts)
			name := o.(interface{ String() string }).String()
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				u, err := o.Build(paritySizes)
				if err != nil {
					t.Fatal(err)
				}
				ref := newKerasRef(o, paritySizes)
				// Small parameters make each update large against θ's ulp, so
				// that a kernel off by more than the stated ulp shows in θ.
				ours := randTensors(rng, paritySizes, 0.01)
				params := clone(ours)
				for step, sc := range gradScales {
					grads := randTensors(rng, paritySizes, sc)
					refGrads := clone(grads)
					u.Step(ours, grads)

					s := &stepper{t: t, name: name, step: step}
					ref.clip(refGrads)
					for i := range grads {
						for j := range grads[i] {
							s.exact("clipped g", i, j, grads[i][j], refGrads[i][j])
						}
					}
					ref.decay(params)
					ref.update(s, u, params, ours, refGrads)
				}
			})
		}
	}
}

// TestAdamAlpha checks the bias-corrected rate against powers computed
// exactly, for many iteration counts and betas.
func TestAdamAlpha(t *testing.T) {
	for _, c := range []struct{ lr, b1, b2 float32 }{
		{0.001, 0.9, 0.999}, {0.01, 0.8, 0.99}, {0.1, 0.5, 0.75}, {0.003, 0.95, 0.9999},
	} {
		for iter := int64(0); iter < 300; iter++ {
			tt := iter + 1
			p1, p2 := f32pow(c.b1, tt), f32pow(c.b2, tt)
			want := float32(c.lr*f32sqrt(1-p2)) / (1 - p1)
			if got := adamAlpha(c.lr, c.b1, c.b2, iter); got != want {
				t.Fatalf("adamAlpha(%v, %v, %v, %d) = %v, want %v", c.lr, c.b1, c.b2, iter, got, want)
			}
		}
	}
}
