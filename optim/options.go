package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
	"github.com/simdmlp/simdmlp/kernels"
)

// Options are the arguments every Keras optimizer shares. Each is off when
// zero, as None is in Keras, and must not be negative. Embed them in a
// configuration: Adam{Options: Options{Clipnorm: 1}}.
//
// Clipping follows Keras: Clipnorm if above zero, else GlobalClipnorm if
// above zero, else Clipvalue if above zero; setting Clipnorm and
// GlobalClipnorm together is an error, and Clipvalue is ignored when
// either is above zero. Clipping rewrites the gradients in place. The
// norms are accumulated in float64 and the scale factor c/‖g‖ is rounded
// to float32 once, where TF sums in float32 and computes g·c/max(‖g‖, c)
// element by element, so a clipped gradient can differ from TF's by an ulp
// or two (and a norm above about 1.8e19, which overflows TF's float32 sum,
// still clips here); a gradient whose norm is at most c is left exactly as
// it is.
//
// Zero in an option is Keras's 0.0 rather than None. Keras does not clip
// at 0.0, so for clipping the two differ only in that Keras refuses
// clipnorm and global_clipnorm both given, even as 0.0, and so does Build.
// Keras does decay at 0.0, subtracting θ·0·η, which leaves finite weights
// as they are but turns ±Inf into NaN (and -0 into +0); WeightDecay = Zero
// does the same.
type Options struct {
	// WeightDecay enables decoupled weight decay: before each update every
	// parameter becomes θ - θ·wd·η, in that float32 order, η being the
	// learning rate.
	WeightDecay float64
	// Clipnorm clips each gradient tensor on its own to this L2 norm:
	// g ← g·c/‖g‖₂ when ‖g‖₂ > c. A tensor whose norm is infinite
	// becomes zero where it was finite; a NaN norm makes it all NaN.
	Clipnorm float64
	// Clipvalue clamps every gradient element to [-c, c]; NaN stays NaN.
	Clipvalue float64
	// GlobalClipnorm scales all gradients together by c/n when their joint
	// norm n = sqrt(Σ‖g‖²) exceeds c. If n is infinite or NaN every
	// gradient becomes NaN, as in TF's clip_by_global_norm.
	GlobalClipnorm float64
}

// check records in v the first invalid option.
func (o Options) check(v *validator) {
	v.nonNegative("WeightDecay", o.WeightDecay)
	v.nonNegative("Clipnorm", o.Clipnorm)
	v.nonNegative("Clipvalue", o.Clipvalue)
	v.nonNegative("GlobalClipnorm", o.GlobalClipnorm)
	// Keras tests "is not None", so an explicit zero counts as set.
	if v.err == nil && o.Clipnorm != 0 && o.GlobalClipnorm != 0 {
		v.err = fmt.Errorf("optim: %s: Clipnorm = %g and GlobalClipnorm = %g: set at most one (Keras raises the same error)",
			v.opt, value(o.Clipnorm), value(o.GlobalClipnorm))
	}
}

// format appends the options that are set, an explicit zero included, to
// a Keras-style argument list, in the order of Keras's constructor.
func (o Options) format(b *strings.Builder) {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"weight_decay", o.WeightDecay},
		{"clipnorm", o.Clipnorm},
		{"clipvalue", o.Clipvalue},
		{"global_clipnorm", o.GlobalClipnorm},
	} {
		if f.v != 0 {
			fmt.Fprintf(b, ", %s=%s", f.name, pyFloat(value(f.v)))
		}
	}
}

// validator records the first invalid field of a configuration.
type validator struct {
	opt string // Keras class name, for messages
	err error
}

func (v *validator) fail(field string, x float64, why string) {
	if v.err == nil {
		v.err = fmt.Errorf("optim: %s: %s = %g %s", v.opt, field, x, why)
	}
}

// nonNegative accepts zero (the default) and any positive value that is
// finite as a float32, since every value is used as a float32.
func (v *validator) nonNegative(field string, x float64) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.fail(field, x, "is not a finite number")
	case x < 0:
		v.fail(field, x, "is negative")
	case math.IsInf(float64(float32(x)), 0):
		v.fail(field, x, "overflows float32")
	}
}

// unitInterval checks nonNegative and x ≤ 1 (or x < 1 when open is set).
func (v *validator) unitInterval(field string, x float64, open bool) {
	v.nonNegative(field, x)
	switch {
	case open && x >= 1:
		v.fail(field, x, "must be less than 1")
	case x > 1:
		v.fail(field, x, "must be at most 1")
	}
}

func (v *validator) sizes(sizes []int) {
	for i, n := range sizes {
		if n < 0 && v.err == nil {
			v.err = fmt.Errorf("optim: %s: Build: sizes[%d] = %d is negative", v.opt, i, n)
		}
	}
}

// orDefault resolves a field to the value the optimizer uses: def when x
// is 0 (unset), exactly 0 when x is Zero, x otherwise. Every read of a
// float64 field goes through it (or value) before any arithmetic, so that
// Zero never leaks into a formula: 1-Zero rounds to 1 in float64, but a
// Zero that reached String or a "> 0" test would show.
func orDefault(x, def float64) float64 {
	switch x {
	case 0:
		return def
	case Zero:
		return 0
	}
	return x
}

// value resolves a field whose default is 0: both 0 and Zero give 0.
func value(x float64) float64 { return orDefault(x, 0) }

// core is the part of every updater that Keras's base optimizer does:
// argument checks, clipping, weight decay and the iteration count.
type core struct {
	name  string // Keras class name, for panics
	sizes []int
	lr    float32
	iter  int64

	// The clipping mode Keras would pick; the threshold is used as the
	// float32 TF converts it to.
	clip  clipMode
	clipC float32

	decay bool
	wd    float32

	// slots are the updater's slot arrays with their names (see keep).
	slots []slotSpec
}

type clipMode uint8

const (
	clipNone clipMode = iota
	clipNorm
	clipGlobalNorm
	clipValue
)

// newCore takes the learning rate already resolved and the options as the
// configuration holds them, since for weight decay set-to-zero and unset
// differ.
func newCore(name string, sizes []int, lr float64, o Options) core {
	c := core{name: name, sizes: append([]int(nil), sizes...), lr: float32(lr)}
	// Keras clips only for a threshold above 0, so an explicit zero
	// (resolved to 0 here) leaves the gradients alone.
	clipnorm, global, clipvalue := value(o.Clipnorm), value(o.GlobalClipnorm), value(o.Clipvalue)
	switch {
	case clipnorm > 0:
		c.clip, c.clipC = clipNorm, float32(clipnorm)
	case global > 0:
		c.clip, c.clipC = clipGlobalNorm, float32(global)
	case clipvalue > 0:
		c.clip, c.clipC = clipValue, float32(clipvalue)
	}
	// Keras decays whenever weight_decay is not None: at 0.0 (Zero) or at
	// a value that rounds to float32 zero the step still runs, and still
	// turns ±Inf into NaN.
	c.decay, c.wd = o.WeightDecay != 0, float32(value(o.WeightDecay))
	return c
}

// Iterations returns how many steps have been applied.
func (c *core) Iterations() int64 { return c.iter }

// begin checks the arguments of Step, then clips the gradients and decays
// the weights. All checks come first, so a panicking Step changes nothing.
func (c *core) begin(params, grads [][]float32) {
	if c.iter >= MaxIterations {
		panic(fmt.Sprintf("optim: %s: Step after %d iterations, the most an Updater takes (MaxIterations)", c.name, c.iter))
	}
	if len(params) != len(c.sizes) || len(grads) != len(c.sizes) {
		c.countMismatch(len(params), len(grads))
	}
	for i, n := range c.sizes {
		if len(params[i]) != n || len(grads[i]) != n {
			c.lengthMismatch(i, len(params[i]), len(grads[i]))
		}
	}
	switch c.clip {
	case clipNorm:
		for _, g := range grads {
			clipToNorm(g, math.Sqrt(kernels.SumSquares(g)), c.clipC)
		}
	case clipGlobalNorm:
		var ss float64
		for _, g := range grads {
			ss += kernels.SumSquares(g)
		}
		n := math.Sqrt(ss)
		if math.IsInf(n, 0) {
			// TF's scale is c·min(1/n, 1/c) + (n - n): NaN for an
			// infinite norm, where clipToNorm's c/n would give zero.
			n = math.NaN()
		}
		for _, g := range grads {
			clipToNorm(g, n, c.clipC)
		}
	case clipValue:
		for _, g := range grads {
			kernels.Clamp(g, -c.clipC, c.clipC)
		}
	}
	if c.decay {
		for _, p := range params {
			decayWeights(p, c.wd, c.lr)
		}
	}
}

// clipToNorm scales g by c/n when its norm n exceeds c. A NaN norm scales
// by NaN, so the whole tensor becomes NaN as it does in TF.
func clipToNorm(g []float32, n float64, c float32) {
	if n <= float64(c) {
		return
	}
	kernels.Scale(g, float32(float64(c)/n))
}

// decayWeights is Keras's θ ← θ - θ·wd·lr. It is a plain loop rather than
// kernels.Scale(θ, 1-wd·lr) because wd·lr is tiny: rounding 1-wd·lr to
// float32 moves it by up to 2⁻²⁵, which with wd·lr = 1e-6 changes the decay
// itself by 3%, and in the same direction at every step.
func decayWeights(p []float32, wd, lr float32) {
	for j, x := range p {
		// The conversions forbid fusing into an FMA, which Keras's
		// separately rounded operations do not do.
		p[j] = x - float32(float32(x*wd)*lr)
	}
}

// countMismatch and lengthMismatch are kept out of line so that the
// formatting they do never makes Step's arguments escape.
//
//go:noinline
func (c *core) countMismatch(np, ng int) {
	panic(fmt.Sprintf("optim: %s.Step: len(params) = %d, len(grads) = %d, want %d (the sizes given to Build)",
		c.name, np, ng, len(c.sizes)))
}

//go:noinline
func (c *core) lengthMismatch(i, np, ng int) {
	panic(fmt.Sprintf("optim: %s.Step: len(params[%d]) = %d, len(grads[%d]) = %d, want %d (the sizes given to Build)",
		c.name, i, np, i, ng, c.sizes[i]))
}

// slots returns one zeroed tensor per size, all carved from a single
// allocation so that a model's slots sit together in memory. Each tensor's
// capacity ends at its length, so no kernel can write into its neighbour.
func slots(sizes []int, init float32) [][]float32 {
	total := 0
	for _, n := range sizes {
		total += n
	}
	buf := make([]float32, total)
	if init != 0 {
		for i := range buf {
			buf[i] = init
		}
	}
	s := make([][]float32, len(sizes))
	off := 0
	for i, n := range sizes {
		s[i] = buf[off : off+n : off+n]
		off += n
	}
	return s
}

// pyFloat formats x as Python's repr does, so that String reads like the
// Keras call: 0.001, 0.9, 1e-07, 0.0, 10.0.
func pyFloat(x float64) string { return pyfmt.Repr(x) }

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
