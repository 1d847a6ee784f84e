package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

type layerKind uint8

const (
	kindDense layerKind = iota + 1
	kindFlatten
	kindDropout
)

// Layer is one layer of a Sequential model, made by Dense, Flatten or
// Dropout. A layer belongs to at most one model; its weights exist once that model is
// built (its input shape is known).
type Layer struct {
	kind       layerKind
	name       string
	units      int
	act        kernels.Activation
	inputShape []int // as given by InputShape; nil if none
	err        error // a construction error, reported when the layer is used
	owner      *Sequential

	// Dropout only.
	rate    float64
	seed    uint64 // the mask generator's seed, drawn when built unless set
	seedSet bool
	drop    kernels.DropoutParams // this step's mask, set by the forward pass

	// Set when the model is built.
	in     int   // flat input size
	outDim []int // output shape without the batch dimension
	w, b   []float32
	// Dense only: the Dropout layers between the previous Dense layer (or
	// the input) and this one, which training applies to its input.
	drops []*Layer
}

// LayerOption configures a layer made by Dense, Flatten or Dropout.
type LayerOption func(*Layer)

// InputShape gives the shape of one input sample, without the batch
// dimension, as Keras's input_shape=(784,) or input_shape=(28, 28). On the
// first layer of a model it lets the model build at once, so Summary works
// before Fit. Every dimension must be positive.
func InputShape(dims ...int) LayerOption {
	dims = append([]int(nil), dims...)
	return func(l *Layer) {
		if len(dims) == 0 {
			l.setErr(fmt.Errorf("InputShape needs at least one dimension"))
			return
		}
		for _, d := range dims {
			if d <= 0 {
				l.setErr(fmt.Errorf("InputShape%s has a dimension that is not positive", pyTuple(dims)))
				return
			}
		}
		if _, ok := product(dims); !ok {
			l.setErr(fmt.Errorf("InputShape%s is too large", pyTuple(dims)))
			return
		}
		l.inputShape = dims
	}
}

// Name sets the layer's name, as Keras's name= argument. Any text is
// accepted (Unicode and spaces included) except the empty string. A named
// layer does not advance the automatic name counters.
func Name(name string) LayerOption {
	return func(l *Layer) {
		if name == "" {
			l.setErr(fmt.Errorf("Name(\"\"): a layer name must not be empty"))
			return
		}
		l.name = name
	}
}

func (l *Layer) setErr(err error) {
	if l.err == nil {
		l.err = err
	}
}

// Dense returns a fully connected layer, as keras.layers.Dense(units,
// activation=...): y = act(x·W + b) with a kernel W of shape (in, units)
// initialised Glorot-uniform and a bias b of zeros. activation is a Keras
// name that kernels.ParseActivation knows ("relu", "sigmoid", "softmax",
// "tanh", "linear"; kernels.ActivationNames lists them), or "" for none
// (linear).
//
// Dense cannot fail; a bad argument (units ≤ 0, an unknown activation) is
// kept in the layer and returned as an error by the model it is given to
// (Add, or the first method of a model made by NewSequential).
func Dense(units int, activation string, opts ...LayerOption) *Layer {
	l := &Layer{kind: kindDense, units: units}
	for _, o := range opts {
		o(l)
	}
	if l.name == "" {
		l.name = uniqueName("dense")
	}
	if units <= 0 {
		l.setErr(fmt.Errorf("Dense units = %d, must be positive", units))
	}
	act, err := kernels.ParseActivation(activation)
	if err != nil {
		l.setErr(err)
	}
	l.act = act
	return l
}

// Flatten returns a layer that reshapes each sample to one dimension, as
// keras.layers.Flatten(): (28, 28) becomes (784,). It has no weights. Use
// it first, with InputShape, to feed images to Dense layers.
func Flatten(opts ...LayerOption) *Layer {
	l := &Layer{kind: kindFlatten}
	for _, o := range opts {
		o(l)
	}
	if l.name == "" {
		l.name = uniqueName("flatten")
	}
	return l
}

// Dropout returns a layer that, while the model trains (Fit and
// TrainOnBatch), sets each input value to zero with probability rate and
// multiplies the others by 1/(1−rate), as keras.layers.Dropout(rate); in
// Evaluate, Predict and a Predictor it passes its input through. It has no
// weights and keeps its input's shape.
//
// The mask is drawn by kernels.Dropout from a seed the layer takes from
// the generator SetRandomSeed seeds when its model is built (kept in the
// model's file), the optimizer's step count and each value's place in
// the batch, so a run is reproducible and gives the same bits on every
// kernel level and with any number of threads. rate must be in [0, 1);
// otherwise the error names it when the layer is added to a model.
func Dropout(rate float64, opts ...LayerOption) *Layer {
	l := &Layer{kind: kindDropout, rate: rate}
	for _, o := range opts {
		o(l)
	}
	if l.name == "" {
		l.name = uniqueName("dropout")
	}
	if !(rate >= 0 && rate < 1) {
		l.setErr(fmt.Errorf("Dropout rate = %v, must be in [0, 1) (the fraction of the inputs to drop)", rate))
	}
	return l
}

// Rate returns a Dropout layer's rate, or 0 for other layers.
func (l *Layer) Rate() float64 { return l.rate }

// Name returns the layer's name, such as "dense_1" or "hidden".
func (l *Layer) Name() string { return l.name }

// ClassName returns Keras's class name: "Dense", "Flatten" or "Dropout".
func (l *Layer) ClassName() string {
	switch l.kind {
	case kindDense:
		return "Dense"
	case kindDropout:
		return "Dropout"
	}
	return "Flatten"
}

// Units returns a Dense layer's number of outputs, or 0 for other layers.
func (l *Layer) Units() int {
	if l.kind == kindDense {
		return l.units
	}
	return 0
}

// Activation returns a Dense layer's activation name ("linear" for none),
// or "" for other layers.
func (l *Layer) Activation() string {
	if l.kind == kindDense {
		return l.act.String()
	}
	return ""
}

// OutputShape returns the shape of one output sample without the batch
// dimension, or nil while the layer's model is not built.
func (l *Layer) OutputShape() []int { return append([]int(nil), l.outDim...) }

// CountParams returns the number of weights: in·units + units for Dense
// (0 while not built), 0 for Flatten and Dropout.
func (l *Layer) CountParams() int { return len(l.w) + len(l.b) }

// build sets the layer's shapes for an input of shape inDim (no batch
// dimension) and, for Dense, allocates and initialises its weights.
func (l *Layer) build(inDim []int) error {
	n, ok := product(inDim)
	if !ok {
		return fmt.Errorf("input shape %s is too large", pyTuple(inDim))
	}
	switch l.kind {
	case kindFlatten:
		l.in = n
		l.outDim = []int{n}
	case kindDropout:
		l.in = n
		l.outDim = append([]int(nil), inDim...)
		if !l.seedSet {
			l.seed = drawSeed()
		}
	case kindDense:
		if len(inDim) != 1 {
			return fmt.Errorf("Dense needs a flat input, got shape %s; put a Flatten layer before it",
				pyShape(inDim))
		}
		if _, ok := product([]int{n + 1, l.units}); !ok {
			return fmt.Errorf("Dense %d→%d is too large", n, l.units)
		}
		l.in = n
		l.outDim = []int{l.units}
		l.w = make([]float32, n*l.units)
		l.b = make([]float32, l.units)
		glorotUniform(l.w, n, l.units, drawSeed())
	}
	return nil
}

// dropoutParams returns the mask of layer l (a Dropout) for the step after
// iterations optimizer steps: the layer's seed and the step are mixed into
// the kernel's key by a SplitMix64 finaliser, so that consecutive steps and
// layers get unrelated masks.
func (l *Layer) dropoutParams(iterations int64) kernels.DropoutParams {
	z := l.seed ^ (uint64(iterations)+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return kernels.NewDropoutParams(l.rate, z^z>>31)
}

// glorotUniform fills w with U[-limit, limit), limit = sqrt(6/(fanIn+fanOut)),
// Keras's default kernel initialiser.
func glorotUniform(w []float32, fanIn, fanOut int, seed uint64) {
	limit := math.Sqrt(6 / math.Max(1, float64(fanIn+fanOut)))
	r := rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	for i := range w {
		w[i] = float32(limit * (2*r.Float64() - 1))
	}
}

// product returns the product of dims, and false on overflow or an empty
// list.
func product(dims []int) (int, bool) {
	if len(dims) == 0 {
		return 0, false
	}
	p := 1
	for _, d := range dims {
		if d <= 0 || p > math.MaxInt32/d {
			return 0, false
		}
		p *= d
	}
	return p, true
}

// pyTuple formats dims as a Python tuple: (784,) or (28, 28).
func pyTuple(dims []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range dims {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(dims) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// pyShape formats a batch shape as Keras prints it: (None, 784).
func pyShape(dims []int) string {
	var b strings.Builder
	b.WriteString("(None")
	for _, d := range dims {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(')')
	return b.String()
}
