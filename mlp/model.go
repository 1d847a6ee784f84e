package mlp

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// ErrNotBuilt is matched (errors.Is) by the error of methods that need the
// model's input shape before it is known. Its text is Keras's.
//
//lint:ignore ST1005 Keras's wording, capitalised and punctuated as Keras prints it.
var ErrNotBuilt = errors.New("This model has not yet been built. Build the model first by calling `build()` or by calling the model on a batch of data.")

// ErrNotCompiled is matched (errors.Is) by the error of Fit, Evaluate and
// TrainOnBatch on a model that was not compiled; the error names the
// method and the model.
var ErrNotCompiled = errors.New("you must compile the model before training or evaluating it: call Compile(optimizer, loss, metrics...)")

// Sequential is a linear stack of layers, as keras.Sequential.
type Sequential struct {
	name   string
	layers []*Layer
	err    error // from NewSequential: returned by every method

	built   bool
	inShape []int // one sample's input shape
	inSize  int   // its flat size
	dense   []*Layer

	// Set by Compile.
	compiled bool
	opt      optim.Optimizer
	metric   string // "" when no accuracy metric
	loss     string // SparseCategoricalCrossentropy or …FromLogits
	updater  optim.Updater
	slots    uint64 // optimizer values per weight, for the memory checks

	ws   work
	perm []int // Fit's shuffling order, reused across fits

	busy atomic.Bool // a method that uses the weights or buffers is running
}

// NewSequential returns a model named name ("" for an automatic name,
// sequential, sequential_1, …) holding layers in order, as
// keras.Sequential(layers, name=name). If a layer cannot be added (a Dense
// with an unknown activation, a duplicate name, …) the model keeps the
// first such error and every method returns it.
//
// When the first layer has an InputShape the model is built at once; the
// shapes and the memory of all the layers are checked together first, so
// a model too large for the machine is an error before any weight is
// allocated.
func NewSequential(name string, layers ...*Layer) *Sequential {
	if name == "" {
		name = uniqueName("sequential")
	}
	m := &Sequential{name: name}
	if err := precheck(name, layers); err != nil {
		m.err = err
		return m
	}
	for _, l := range layers {
		if err := m.Add(l); err != nil {
			m.err = err
			break
		}
	}
	return m
}

// precheck runs the whole-model checks of Build on layers whose first has
// an InputShape. Faults of single layers are left to Add, which names them
// as it always does.
func precheck(name string, layers []*Layer) error {
	if len(layers) == 0 || layers[0] == nil || layers[0].inputShape == nil {
		return nil
	}
	for _, l := range layers {
		if l == nil || l.err != nil {
			return nil
		}
	}
	params, err := plan(layers[0].inputShape, layers)
	if err != nil {
		return err
	}
	return checkWeights(name, params)
}

// Err returns the error recorded by NewSequential, or nil.
func (m *Sequential) Err() error { return m.err }

// Name returns the model's name.
func (m *Sequential) Name() string { return m.name }

// InputShape returns the shape of one input sample without the batch
// dimension ((28, 28) for the tutorial's models), or nil while the model is
// not built.
func (m *Sequential) InputShape() []int { return append([]int(nil), m.inShape...) }

// Loss returns the loss given to Compile, in its canonical spelling
// (SparseCategoricalCrossentropy or SparseCategoricalCrossentropyFromLogits),
// or "" before Compile.
func (m *Sequential) Loss() string { return m.loss }

// Layers returns the model's layers in order.
func (m *Sequential) Layers() []*Layer { return append([]*Layer(nil), m.layers...) }

// Built reports whether the input shape is known and the weights exist.
func (m *Sequential) Built() bool { return m.built }

// InputSize returns the flat size of one input sample (784 for the
// tutorial's models), or 0 while the model is not built.
func (m *Sequential) InputSize() int { return m.inSize }

// OutputSize returns the number of outputs of the last layer, or 0 while
// the model is not built.
func (m *Sequential) OutputSize() int {
	if !m.built || len(m.layers) == 0 {
		return 0
	}
	d, _ := product(m.layers[len(m.layers)-1].outDim)
	return d
}

// Add appends a layer, as Keras's model.add. If the model is built, or the
// layer is the first one and has an InputShape, the layer is built at once.
// On error the model is unchanged. Adding a layer after Compile undoes
// the compilation: compile again before training.
func (m *Sequential) Add(l *Layer) error {
	if m.err != nil {
		return m.err
	}
	if l == nil {
		return fmt.Errorf("mlp: %s: Add(nil)", m.name)
	}
	if l.err != nil {
		return fmt.Errorf("mlp: layer %q: %w", l.name, l.err)
	}
	if l.owner != nil {
		return fmt.Errorf("mlp: layer %q already belongs to model %q; make a new layer", l.name, l.owner.name)
	}
	if err := m.acquire("Add"); err != nil {
		return err
	}
	defer m.release()
	for _, o := range m.layers {
		if o.name == l.name {
			return fmt.Errorf("mlp: all layers added to a Sequential model should have unique names; name %q is already the name of a layer in model %q", l.name, m.name)
		}
	}
	switch {
	case m.built:
		last := m.layers[len(m.layers)-1]
		if l.inputShape != nil && !sameDims(l.inputShape, last.outDim) {
			return fmt.Errorf("mlp: layer %q has InputShape%s but follows output shape %s",
				l.name, pyTuple(l.inputShape), pyShape(last.outDim))
		}
		params, err := plan(last.outDim, []*Layer{l})
		if err != nil {
			return err
		}
		if err := checkWeights(m.name, params.add(size(m.CountParams()))); err != nil {
			return err
		}
		if err := l.build(last.outDim); err != nil {
			return fmt.Errorf("mlp: layer %q: %w", l.name, err)
		}
	case len(m.layers) == 0 && l.inputShape != nil:
		if err := l.build(l.inputShape); err != nil {
			return fmt.Errorf("mlp: layer %q: %w", l.name, err)
		}
		m.built = true
		m.inShape = append([]int(nil), l.inputShape...)
		m.inSize, _ = product(l.inputShape)
	}
	l.owner = m
	m.layers = append(m.layers, l)
	if l.kind == kindDense && m.built {
		m.dense = append(m.dense, l)
	}
	m.linkDropouts()
	m.uncompile()
	m.ws = work{}
	return nil
}

// Build builds the model for samples of the given shape (no batch
// dimension), as Keras's model.build((None, 784)): it creates the weights.
// A model whose first layer has an InputShape is built already; Fit and
// Evaluate build an unbuilt model from their data. Build on a built model
// with the same shape does nothing; with another shape it is an error.
func (m *Sequential) Build(inputShape ...int) error {
	if m.err != nil {
		return m.err
	}
	if err := m.acquire("Build"); err != nil {
		return err
	}
	defer m.release()
	return m.build(inputShape)
}

// build is Build for a caller that holds the model.
func (m *Sequential) build(inputShape []int) error {
	if m.built {
		if sameDims(inputShape, m.inShape) {
			return nil
		}
		return fmt.Errorf("mlp: %s is built for input shape %s, not %s", m.name, pyShape(m.inShape), pyShape(inputShape))
	}
	if len(m.layers) == 0 {
		return fmt.Errorf("mlp: %s has no layers to build", m.name)
	}
	if _, ok := product(inputShape); !ok {
		return fmt.Errorf("mlp: Build%s: every dimension must be positive", pyTuple(inputShape))
	}
	// Check every layer's shapes and the whole model's memory before
	// allocating anything, so that a failed Build leaves the model as it
	// was.
	params, err := plan(inputShape, m.layers)
	if err != nil {
		return err
	}
	if err := checkWeights(m.name, params); err != nil {
		return err
	}
	// A model compiled before it is built will train: its gradients and
	// optimizer slots must fit too, and are checked before the weights
	// are allocated (Compile checks the same for a built model).
	if m.compiled {
		desc := fmt.Sprintf("training model %q (%d weights, with gradients and %d optimizer values per weight)", m.name, uint64(params), m.slots)
		if err := checkMemory(params.mul(4*(2+m.slots)), desc); err != nil {
			return fmt.Errorf("mlp: %w", err)
		}
	}
	dims := inputShape
	for _, l := range m.layers {
		if err := l.build(dims); err != nil {
			return fmt.Errorf("mlp: layer %q: %w", l.name, err)
		}
		dims = l.outDim
		if l.kind == kindDense {
			m.dense = append(m.dense, l)
		}
	}
	m.linkDropouts()
	m.built = true
	m.inShape = append([]int(nil), inputShape...)
	m.inSize, _ = product(inputShape)
	return nil
}

// linkDropouts gives each Dense layer the Dropout layers that feed it.
func (m *Sequential) linkDropouts() {
	var pending []*Layer
	for _, l := range m.layers {
		switch l.kind {
		case kindDropout:
			if l.rate > 0 {
				pending = append(pending, l)
			}
		case kindDense:
			l.drops, pending = pending, nil
		}
	}
}

func sameDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The losses Compile accepts, by the names a saved model records.
const (
	// SparseCategoricalCrossentropy is Keras's default form of the loss
	// for integer labels: the model's last layer is a Dense layer with
	// softmax activation, whose outputs are probabilities.
	SparseCategoricalCrossentropy = "sparse_categorical_crossentropy"
	// SparseCategoricalCrossentropyFromLogits is Keras's
	// SparseCategoricalCrossentropy(from_logits=True): the last layer is a
	// Dense layer with linear activation, whose outputs are logits, and
	// the loss applies the softmax itself. Predict then returns logits.
	// Models imported without a final softmax (from PyTorch, say) train
	// with it.
	SparseCategoricalCrossentropyFromLogits = "sparse_categorical_crossentropy_from_logits"
)

// losses maps the loss strings Compile accepts to whether the model's
// outputs are logits.
var losses = map[string]bool{
	SparseCategoricalCrossentropy:           false,
	"SparseCategoricalCrossentropy":         false,
	SparseCategoricalCrossentropyFromLogits: true,
}

// metricNames lists the metric strings Compile accepts; all are Keras's
// sparse categorical accuracy for integer labels, and History uses the name
// given.
var metricNames = map[string]bool{
	"accuracy":                    true,
	"acc":                         true,
	"sparse_categorical_accuracy": true,
}

// Compile configures training, as Keras's compile(optimizer, loss,
// metrics). A nil optimizer means RMSprop{}, Keras's default; use
// optim.ByName for Keras's strings ("adam", "sgd", …). loss must be
// "sparse_categorical_crossentropy" with a Dense layer with softmax
// activation last (the loss is computed from its logits), or
// SparseCategoricalCrossentropyFromLogits with a Dense layer with linear
// activation last. metrics may be "accuracy" (or "acc",
// "sparse_categorical_accuracy"), reported under the name given.
//
// Compiling again keeps the weights and starts a fresh optimizer state
// (iteration 0, zero slots), as in Keras. On error the model is unchanged.
func (m *Sequential) Compile(opt optim.Optimizer, loss string, metrics ...string) error {
	if m.err != nil {
		return m.err
	}
	if opt == nil {
		opt = optim.RMSprop{}
	}
	if loss == "" {
		return fmt.Errorf("mlp: Compile: no loss given; use \"sparse_categorical_crossentropy\"")
	}
	fromLogits, ok := losses[loss]
	if !ok {
		return fmt.Errorf("mlp: Compile: unknown or unsupported loss %q; supported: %q and %q",
			loss, SparseCategoricalCrossentropy, SparseCategoricalCrossentropyFromLogits)
	}
	if len(m.layers) == 0 {
		return fmt.Errorf("mlp: Compile: model %q has no layers", m.name)
	}
	last := m.layers[len(m.layers)-1]
	switch {
	case fromLogits && (last.kind != kindDense || last.act != kernels.ActLinear):
		return fmt.Errorf("mlp: Compile: %s needs a Dense layer with linear activation last (its outputs are the logits); "+
			"layer %q is %s with activation %q", loss, last.name, last.ClassName(), last.Activation())
	case !fromLogits && (last.kind != kindDense || last.act != kernels.ActSoftmax):
		msg := fmt.Sprintf("mlp: Compile: sparse_categorical_crossentropy needs a Dense layer with softmax activation last; "+
			"layer %q (%s, activation %q) is not supported", last.name, last.ClassName(), last.Activation())
		if last.kind == kindDense && last.act == kernels.ActLinear {
			msg += "; for a linear output (logits) use " + SparseCategoricalCrossentropyFromLogits
		}
		return errors.New(msg)
	}
	loss = SparseCategoricalCrossentropy
	if fromLogits {
		loss = SparseCategoricalCrossentropyFromLogits
	}
	metric := ""
	for _, s := range metrics {
		if !metricNames[s] {
			return fmt.Errorf("mlp: Compile: unknown metric %q; supported: \"accuracy\", \"acc\", \"sparse_categorical_accuracy\"", s)
		}
		if metric != "" && metric != s {
			return fmt.Errorf("mlp: Compile: metrics %q and %q are the same metric; give it once", metric, s)
		}
		metric = s
	}
	if err := m.acquire("Compile"); err != nil {
		return err
	}
	defer m.release()
	// Build validates the configuration; when the model is built the
	// updater is kept, otherwise it is made on the first training step.
	var sizes []int
	if m.built {
		if _, err := opt.Build(nil); err != nil {
			return fmt.Errorf("mlp: Compile: %w", err)
		}
		if err := m.checkTraining("Compile", 0, slotsPerWeight(opt)); err != nil {
			return err
		}
		sizes = m.paramSizes()
	}
	up, err := opt.Build(sizes)
	if err != nil {
		return fmt.Errorf("mlp: Compile: %w", err)
	}
	if !m.built {
		up = nil
	}
	m.compiled, m.opt, m.metric, m.updater, m.loss = true, opt, metric, up, loss
	m.slots = slotsPerWeight(opt)
	return nil
}

// CompileNamed is Compile with the optimizer given by Keras's string, as
// model.compile(optimizer="adam", ...): "sgd", "adagrad", "rmsprop" or
// "adam" in any case, with default arguments; "" means "rmsprop". Other
// names are an error (see optim.ByName).
func (m *Sequential) CompileNamed(optimizer, loss string, metrics ...string) error {
	if m.err != nil {
		return m.err
	}
	if optimizer == "" {
		optimizer = optim.DefaultName
	}
	opt, err := optim.ByName(optimizer)
	if err != nil {
		return fmt.Errorf("mlp: Compile: %w", err)
	}
	return m.Compile(opt, loss, metrics...)
}

// Optimizer returns the optimizer given to Compile (RMSprop{} for nil), or
// nil before Compile.
func (m *Sequential) Optimizer() optim.Optimizer { return m.opt }

// Iterations returns how many optimizer steps have run since Compile.
func (m *Sequential) Iterations() int64 {
	if m.updater == nil {
		return 0
	}
	return m.updater.Iterations()
}

func (m *Sequential) uncompile() {
	m.compiled, m.opt, m.metric, m.updater, m.slots, m.loss = false, nil, "", nil, 0, ""
}

func (m *Sequential) paramSizes() []int {
	var s []int
	for _, l := range m.dense {
		s = append(s, len(l.w), len(l.b))
	}
	return s
}

// WeightShapes returns the shape of each weight tensor in Keras's order:
// for each Dense layer, its kernel (in, units) then its bias (units,).
func (m *Sequential) WeightShapes() [][]int {
	var s [][]int
	for _, l := range m.dense {
		s = append(s, []int{l.in, l.units}, []int{l.units})
	}
	return s
}

// WeightNames returns Keras's variable names, such as "dense/kernel:0" and
// "dense/bias:0", in the order of Weights.
func (m *Sequential) WeightNames() []string {
	var s []string
	for _, l := range m.dense {
		s = append(s, l.name+"/kernel:0", l.name+"/bias:0")
	}
	return s
}

// Weights returns copies of the weights in Keras's get_weights order and
// layout: for each Dense layer its kernel, in×units row-major, then its
// bias. An unbuilt model has none.
func (m *Sequential) Weights() [][]float32 {
	var out [][]float32
	for _, l := range m.dense {
		out = append(out, append([]float32(nil), l.w...), append([]float32(nil), l.b...))
	}
	return out
}

// SetWeights copies w into the model, as Keras's set_weights: w must have
// the order, count and sizes of Weights. On error nothing is changed.
func (m *Sequential) SetWeights(w [][]float32) error {
	if m.err != nil {
		return m.err
	}
	if err := m.acquire("SetWeights"); err != nil {
		return err
	}
	defer m.release()
	return m.setWeights(w)
}

// setWeights is SetWeights for a caller that holds the model.
func (m *Sequential) setWeights(w [][]float32) error {
	shapes := m.WeightShapes()
	names := m.WeightNames()
	if len(w) != len(shapes) {
		return fmt.Errorf("mlp: SetWeights: got %d weight tensors, model %q has %d", len(w), m.name, len(shapes))
	}
	for i, s := range shapes {
		n, _ := product(s)
		if len(w[i]) != n {
			return fmt.Errorf("mlp: SetWeights: weight %d (%s) has %d elements, want %d for shape %s",
				i, names[i], len(w[i]), n, pyTuple(s))
		}
	}
	for i, l := range m.dense {
		copy(l.w, w[2*i])
		copy(l.b, w[2*i+1])
	}
	return nil
}

// CountParams returns the total number of weights.
func (m *Sequential) CountParams() int {
	n := 0
	for _, l := range m.layers {
		n += l.CountParams()
	}
	return n
}

// String returns a one-line description such as
// `Sequential "sequential_2": flatten (Flatten) → dense_4 (Dense) → dense_5 (Dense)`.
func (m *Sequential) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sequential %q:", m.name)
	for i, l := range m.layers {
		if i > 0 {
			b.WriteString(" →")
		}
		fmt.Fprintf(&b, " %s (%s)", l.name, l.ClassName())
	}
	return b.String()
}
