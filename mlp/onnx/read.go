package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
)

// MaxFileSize is the largest model Load and Read accept, in bytes (1 GiB).
// Read stops reading there, so a stream that never ends costs no more.
const MaxFileSize = 1 << 30

// minOpset is the oldest default-domain operator set Read accepts: the
// one from which Gemm broadcasts its bias as today and Dropout has no
// is_test attribute.
const minOpset = 7

// Load reads the ONNX model at path as an mlp model: see Read.
func Load(path string) (*mlp.Sequential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: Load: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: Load: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("onnx: Load %s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("onnx: Load %s: the file has %d bytes, more than the %d (MaxFileSize) a model may have",
			path, fi.Size(), MaxFileSize)
	}
	b, err := readLimited(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("onnx: Load %s: %w", path, err)
	}
	m, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: Load %s: %w", path, err)
	}
	return m, nil
}

// Read reads an ONNX model of a multi-layer perceptron from r (at most
// MaxFileSize bytes) and returns it as an uncompiled mlp model with its
// weights set. The package documentation lists the graphs it accepts;
// anything else is an error that names the node and its operator.
func Read(r io.Reader) (*mlp.Sequential, error) {
	b, err := readLimited(r, 0)
	if err != nil {
		return nil, fmt.Errorf("onnx: Read: %w", err)
	}
	m, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: Read: %w", err)
	}
	return m, nil
}

// readLimited reads r to its end, refusing more than MaxFileSize bytes;
// hint is the expected size (a file's), 0 if unknown.
func readLimited(r io.Reader, hint int64) ([]byte, error) {
	b := make([]byte, 0, min(max(hint, 0), MaxFileSize)+512)
	lr := io.LimitReader(r, MaxFileSize+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("the model is larger than %d bytes (MaxFileSize)", MaxFileSize)
	}
	return b, nil
}

// decode turns a whole file into a model.
func decode(b []byte) (*mlp.Sequential, error) {
	if len(b) == 0 {
		return nil, errors.New("empty input, not an ONNX model")
	}
	if isSafetensors(b) {
		return nil, errors.New("this is a safetensors file (mlp.Save's format), not an ONNX model: read it with mlp.Load")
	}
	model, err := decodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("not a valid ONNX model: %w", err)
	}
	return importModel(model)
}

// isSafetensors recognises mlp's own model files, the likeliest wrong
// file to be given: a little-endian header length, then a JSON object.
func isSafetensors(b []byte) bool {
	if len(b) < 10 || b[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(b)
	return n > 0 && n <= uint64(len(b)-8)
}

// layerSpec is one layer found in the graph.
type layerSpec struct {
	flatten      bool
	name         string // the node's name, used for our own files
	units        int
	act          string // mlp's name; "" while none was found
	kernel, bias []float32
}

// importer follows the chain of nodes from the graph's input to its
// output, turning them into layers.
type importer struct {
	opset   int64
	consts  map[string]*tensorProto // initializers and Constant outputs
	defined map[string]bool         // every value defined so far
	uses    map[string]int          // how many nodes (and graph outputs) read each value

	cur   string // the value the next layer must read
	shape []int  // its shape without the batch dimension

	layers []*layerSpec
	// dense is the Dense layer whose bias (biasOpen) or activation may
	// still follow in the graph, nil when the last layer is complete.
	dense    *layerSpec
	biasOpen bool
}

// nodeError names a node by index, name and operator.
func nodeError(i int, n *nodeProto, format string, args ...any) error {
	op := n.opType
	if op == "" {
		op = "no op_type"
	}
	msg := fmt.Sprintf(format, args...)
	if n.name != "" {
		return fmt.Errorf("node %d %q (%s): %s", i, n.name, op, msg)
	}
	return fmt.Errorf("node %d (%s): %s", i, op, msg)
}

func importModel(model *modelProto) (*mlp.Sequential, error) {
	if model.irVersion < 3 {
		return nil, fmt.Errorf("IR version %d: versions before 3 (no operator set imports) are not supported", model.irVersion)
	}
	im := &importer{opset: -1}
	for _, o := range model.opsetImport {
		if o.domain == "" || o.domain == "ai.onnx" {
			im.opset = max(im.opset, o.version)
		}
	}
	switch {
	case im.opset < 0:
		return nil, errors.New("the model imports no version of the default ONNX operator set")
	case im.opset < minOpset:
		return nil, fmt.Errorf("operator set version %d: versions before %d are not supported", im.opset, minOpset)
	}
	g := model.graph
	if g == nil {
		return nil, errors.New("the model has no graph")
	}
	if g.hasSparseInitializers {
		return nil, errors.New("the graph has sparse initializers, which are not supported")
	}

	im.consts = make(map[string]*tensorProto, len(g.initializers))
	im.defined = make(map[string]bool, len(g.initializers)+len(g.nodes)+1)
	for i, t := range g.initializers {
		if t.name == "" {
			return nil, fmt.Errorf("initializer %d has no name", i)
		}
		if im.consts[t.name] != nil {
			return nil, fmt.Errorf("two initializers are named %q", t.name)
		}
		im.consts[t.name] = t
		im.defined[t.name] = true
	}

	// The data input: the one graph input that is not an initializer
	// (exporters for IR versions before 4 list initializers as inputs).
	var input *valueInfo
	for _, v := range g.inputs {
		if im.consts[v.name] != nil {
			continue
		}
		if input != nil {
			return nil, fmt.Errorf("the graph has inputs %q and %q; an MLP has one data input", input.name, v.name)
		}
		input = v
	}
	if input == nil {
		return nil, errors.New("the graph has no data input")
	}
	inShape, err := inputShape(input)
	if err != nil {
		return nil, err
	}
	im.cur, im.shape = input.name, inShape
	im.defined[input.name] = true

	im.uses = make(map[string]int)
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			if in != "" {
				im.uses[in]++
			}
		}
	}
	for _, o := range g.outputs {
		im.uses[o.name]++
	}
	if k := im.uses[input.name]; k > 1 {
		return nil, fmt.Errorf("graph input %q is read %d times; only a chain of layers is supported", input.name, k)
	}

	for i, n := range g.nodes {
		if err := im.node(i, n); err != nil {
			return nil, err
		}
	}

	if len(g.outputs) != 1 {
		return nil, fmt.Errorf("the graph has %d outputs; an MLP has one", len(g.outputs))
	}
	out := g.outputs[0]
	switch {
	case out.name != im.cur && im.consts[out.name] != nil:
		return nil, fmt.Errorf("graph output %q is a constant", out.name)
	case out.name != im.cur:
		return nil, fmt.Errorf("graph output %q is not the end of the chain of layers (%q is)", out.name, im.cur)
	case out.notTensor || (out.elemType != 0 && out.elemType != dtFloat):
		return nil, fmt.Errorf("graph output %q is not a float32 tensor", out.name)
	}
	return im.build(model, g, inShape)
}

// inputShape checks the data input's type, float32 [batch, dims...] with
// every sample dimension known, and returns the sample dimensions.
func inputShape(v *valueInfo) ([]int, error) {
	switch {
	case v.notTensor:
		return nil, fmt.Errorf("graph input %q is not a tensor", v.name)
	case v.elemType != dtFloat:
		return nil, fmt.Errorf("graph input %q is %s; only float32 (FLOAT) inputs are supported", v.name, dataTypeName(v.elemType))
	case !v.hasShape:
		return nil, fmt.Errorf("graph input %q has no shape; the sample shape must be known", v.name)
	case len(v.shape) < 2:
		return nil, fmt.Errorf("graph input %q has rank %d; want a batch dimension and at least one more", v.name, len(v.shape))
	}
	dims := make([]int, 0, len(v.shape)-1)
	total := 1
	for k, d := range v.shape[1:] {
		if !d.hasValue || d.value <= 0 {
			return nil, fmt.Errorf("graph input %q: dimension %d is %s; every dimension but the batch must be a positive size",
				v.name, k+1, d)
		}
		if d.value > maxElements || total > maxElements/int(d.value) {
			return nil, fmt.Errorf("graph input %q: shape %s has more than %d values per sample", v.name, shapeString(v.shape), maxElements)
		}
		total *= int(d.value)
		dims = append(dims, int(d.value))
	}
	return dims, nil
}

func (d dimension) String() string {
	switch {
	case d.hasValue:
		return strconv.FormatInt(d.value, 10)
	case d.param != "":
		return strconv.Quote(d.param)
	}
	return "unknown"
}

func shapeString(dims []dimension) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = d.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// batchShape formats the current value's shape with its batch dimension.
func batchShape(dims []int) string {
	var b strings.Builder
	b.WriteString("[N")
	for _, d := range dims {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// supportedOps lists the operators Read accepts, for error messages.
const supportedOps = "Gemm, MatMul, Add, Relu, Sigmoid, Tanh, Softmax, Flatten, Reshape, Dropout, Identity, Constant"

// node takes node i of the graph.
func (im *importer) node(i int, n *nodeProto) error {
	fail := func(format string, args ...any) error { return nodeError(i, n, format, args...) }
	if n.domain != "" && n.domain != "ai.onnx" {
		return fail("operator domain %q is not supported; only the default ONNX domain is", n.domain)
	}
	switch n.opType {
	case "Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Reshape", "Dropout", "Identity", "Constant":
	default:
		return fail("operator %q is not supported (supported: %s)", n.opType, supportedOps)
	}
	if len(n.outputs) == 0 || n.outputs[0] == "" {
		return fail("has no output")
	}
	for _, o := range n.outputs {
		if o != "" && im.defined[o] {
			return fail("output %q is already defined earlier in the graph", o)
		}
	}
	// Each input is absent (""), a constant, or the chain's current
	// value; anything else would be a second path through the graph.
	data := -1
	for k, in := range n.inputs {
		switch {
		case in == "" || im.consts[in] != nil:
		case in == im.cur:
			if data >= 0 {
				return fail("reads %q twice", in)
			}
			data = k
		case im.defined[in]:
			return fail("reads %q, which is not the output of the layer before it (%q); only a chain of layers is supported", in, im.cur)
		default:
			return fail("reads %q, which no node, initializer or graph input defines before it", in)
		}
	}
	at, err := im.attrs(n)
	if err != nil {
		return fail("%v", err)
	}

	switch n.opType {
	case "Constant":
		t, err := constantValue(n, at)
		if err != nil {
			return fail("%v", err)
		}
		return im.defineConst(i, n, t)
	case "Identity":
		if err := at.only(); err != nil {
			return fail("%v", err)
		}
		if len(n.inputs) != 1 || n.inputs[0] == "" {
			return fail("has %d inputs, want 1", len(n.inputs))
		}
		if t := im.consts[n.inputs[0]]; t != nil {
			return im.defineConst(i, n, t)
		}
		return im.advance(i, n, im.shape)
	}

	if data < 0 {
		return fail("does not read the output of the layer before it (%q)", im.cur)
	}
	switch n.opType {
	case "Gemm":
		err = im.gemm(n, data, at)
	case "MatMul":
		err = im.matmul(n, data, at)
	case "Add":
		err = im.add(n, data, at)
	case "Relu", "Sigmoid", "Tanh", "Softmax":
		err = im.activation(n, at)
	case "Flatten":
		err = im.flatten(n, data, at)
	case "Reshape":
		err = im.reshape(n, data, at)
	case "Dropout":
		err = im.dropout(n, data, at)
	}
	if err != nil {
		return fail("%v", err)
	}
	return im.advance(i, n, im.shape)
}

// defineConst makes the node's output the constant t.
func (im *importer) defineConst(i int, n *nodeProto, t *tensorProto) error {
	if len(n.outputs) != 1 {
		return nodeError(i, n, "has %d outputs, want 1", len(n.outputs))
	}
	im.consts[n.outputs[0]] = t
	im.defined[n.outputs[0]] = true
	return nil
}

// advance makes the node's first output the chain's current value, of
// the given shape, after checking that it feeds one node at most (or is
// the graph's output) and that the node's other outputs (a Dropout's
// mask) are unused.
func (im *importer) advance(i int, n *nodeProto, shape []int) error {
	out := n.outputs[0]
	if k := im.uses[out]; k > 1 {
		return nodeError(i, n, "its output %q is read %d times (by nodes, or as the graph's output); only a chain of layers is supported", out, k)
	}
	for _, o := range n.outputs[1:] {
		if o == "" {
			continue
		}
		if im.uses[o] > 0 {
			return nodeError(i, n, "its second output %q is used; only a chain of layers is supported", o)
		}
		im.defined[o] = true
	}
	im.cur, im.shape = out, shape
	im.defined[out] = true
	return nil
}

// attrSet is a node's attributes by name.
type attrSet map[string]*attrProto

func (im *importer) attrs(n *nodeProto) (attrSet, error) {
	at := make(attrSet, len(n.attrs))
	for _, a := range n.attrs {
		if at[a.name] != nil {
			return nil, fmt.Errorf("attribute %q is given twice", a.name)
		}
		if a.refAttrName != "" {
			return nil, fmt.Errorf("attribute %q refers to a function's attribute, which only functions may do", a.name)
		}
		at[a.name] = a
	}
	return at, nil
}

// only checks that the node has no attributes other than names.
func (at attrSet) only(names ...string) error {
	for name, a := range at {
		found := false
		for _, s := range names {
			found = found || s == name
		}
		if !found {
			return fmt.Errorf("attribute %q is not supported", name)
		}
		if a.hasOther {
			return fmt.Errorf("attribute %q holds a graph, strings, tensors or types, which it cannot here", name)
		}
	}
	return nil
}

func (at attrSet) int(name string, def int64) (int64, error) {
	a := at[name]
	if a == nil {
		return def, nil
	}
	if a.typ != attrInt {
		return 0, fmt.Errorf("attribute %q has type %d, want INT", name, a.typ)
	}
	return a.i, nil
}

func (at attrSet) float(name string, def float32) (float32, error) {
	a := at[name]
	if a == nil {
		return def, nil
	}
	if a.typ != attrFloat {
		return 0, fmt.Errorf("attribute %q has type %d, want FLOAT", name, a.typ)
	}
	return a.f, nil
}

// constantValue returns a Constant node's value as a tensor.
func constantValue(n *nodeProto, at attrSet) (*tensorProto, error) {
	if len(n.inputs) != 0 {
		return nil, fmt.Errorf("has %d inputs, want none", len(n.inputs))
	}
	if len(at) != 1 {
		return nil, fmt.Errorf("has %d attributes, want exactly one value", len(at))
	}
	if err := at.only("value", "value_float", "value_floats", "value_int", "value_ints"); err != nil {
		return nil, err
	}
	for name, a := range at {
		want := map[string]int32{"value": attrTensor, "value_float": attrFloat, "value_floats": attrFloats,
			"value_int": attrInt, "value_ints": attrInts}[name]
		if a.typ != want {
			return nil, fmt.Errorf("attribute %q has type %d, want %d", name, a.typ, want)
		}
		switch name {
		case "value":
			if a.t == nil {
				return nil, fmt.Errorf("attribute %q holds no tensor", name)
			}
			return a.t, nil
		case "value_float":
			return &tensorProto{dataType: dtFloat, floatData: []float32{a.f}}, nil
		case "value_floats":
			return &tensorProto{dataType: dtFloat, dims: []int64{int64(len(a.floats))}, floatData: a.floats}, nil
		case "value_int":
			return &tensorProto{dataType: dtInt64, int64Data: []int64{a.i}}, nil
		case "value_ints":
			return &tensorProto{dataType: dtInt64, dims: []int64{int64(len(a.ints))}, int64Data: a.ints}, nil
		}
	}
	panic("unreachable")
}

// constInput returns input k of n as a float32 tensor's values and the
// tensor, or an error that names it.
func (im *importer) constFloats(n *nodeProto, k int, role string) ([]float32, *tensorProto, error) {
	name := n.inputs[k]
	t := im.consts[name]
	if t == nil {
		return nil, nil, fmt.Errorf("input %s %q must be a constant (an initializer or a Constant node)", role, name)
	}
	v, err := t.float32s()
	if err != nil {
		return nil, nil, fmt.Errorf("input %s %q: %v", role, name, err)
	}
	for j, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, nil, fmt.Errorf("input %s %q holds %v at index %d; only finite weights are supported", role, name, x, j)
		}
	}
	return v, t, nil
}

// closeDense ends the pending Dense layer: nothing more can join it.
func (im *importer) closeDense() { im.dense, im.biasOpen = nil, false }

// needFlat checks that the current value is [N, features].
func (im *importer) needFlat() error {
	if len(im.shape) != 1 {
		return fmt.Errorf("needs a 2-D input [N, features], got %s; flatten it first", batchShape(im.shape))
	}
	return nil
}

func (im *importer) gemm(n *nodeProto, data int, at attrSet) error {
	if err := at.only("alpha", "beta", "transA", "transB"); err != nil {
		return err
	}
	alpha, err := at.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := at.float("beta", 1)
	if err != nil {
		return err
	}
	transA, err := at.int("transA", 0)
	if err != nil {
		return err
	}
	transB, err := at.int("transB", 0)
	if err != nil {
		return err
	}
	switch {
	case len(n.inputs) < 2 || len(n.inputs) > 3:
		return fmt.Errorf("has %d inputs, want A, B and optionally C", len(n.inputs))
	case data != 0:
		return fmt.Errorf("reads the previous layer's output as input %d; it must be A, the first", data)
	case transA != 0:
		return fmt.Errorf("transA=%d is not supported: A must be the batch, one sample per row", transA)
	case transB != 0 && transB != 1:
		return fmt.Errorf("transB=%d, want 0 or 1", transB)
	}
	if err := im.needFlat(); err != nil {
		return err
	}
	w, bt, err := im.constFloats(n, 1, "B")
	if err != nil {
		return err
	}
	if len(bt.dims) != 2 {
		return fmt.Errorf("input B %q has shape %v, want 2-D", n.inputs[1], bt.dims)
	}
	rows, cols := int(bt.dims[0]), int(bt.dims[1])
	in, units := rows, cols
	if transB == 1 {
		in, units = cols, rows
	}
	if in != im.shape[0] || units == 0 {
		return fmt.Errorf("input B %q is %dx%d (transB=%d), which does not take the %d features of its input",
			n.inputs[1], rows, cols, transB, im.shape[0])
	}
	kernel := w
	if transB == 1 {
		// Stored (units, in), as PyTorch's Linear keeps its weight; our
		// kernels are (in, units).
		kernel = make([]float32, len(w))
		for u := range units {
			for k := range in {
				kernel[k*units+u] = w[u*in+k]
			}
		}
	}
	if alpha != 1 {
		for j := range kernel {
			kernel[j] *= alpha
		}
	}
	bias := make([]float32, units)
	hasC := len(n.inputs) == 3 && n.inputs[2] != ""
	if hasC {
		if bias, err = im.bias(n, 2, "C", units); err != nil {
			return err
		}
		if beta != 1 {
			for j := range bias {
				bias[j] *= beta
			}
		}
	}
	im.startDense(n, units, kernel, bias, !hasC)
	return nil
}

func (im *importer) matmul(n *nodeProto, data int, at attrSet) error {
	if err := at.only(); err != nil {
		return err
	}
	switch {
	case len(n.inputs) != 2:
		return fmt.Errorf("has %d inputs, want 2", len(n.inputs))
	case data != 0:
		return fmt.Errorf("multiplies a constant by the previous layer's output; only output × weights is supported")
	}
	if err := im.needFlat(); err != nil {
		return err
	}
	w, bt, err := im.constFloats(n, 1, "B")
	if err != nil {
		return err
	}
	if len(bt.dims) != 2 || int(bt.dims[0]) != im.shape[0] || bt.dims[1] == 0 {
		return fmt.Errorf("input B %q has shape %v, which does not take the %d features of its input",
			n.inputs[1], bt.dims, im.shape[0])
	}
	units := int(bt.dims[1])
	im.startDense(n, units, w, make([]float32, units), true)
	return nil
}

// startDense begins a Dense layer; biasOpen says whether an Add may
// still give it its bias.
func (im *importer) startDense(n *nodeProto, units int, kernel, bias []float32, biasOpen bool) {
	l := &layerSpec{name: n.name, units: units, kernel: kernel, bias: bias}
	im.layers = append(im.layers, l)
	im.dense, im.biasOpen = l, biasOpen
	im.shape = []int{units}
}

// bias returns input k of n as a bias for units outputs: a tensor that
// broadcasts to [N, units] without depending on N (shape [], [1],
// [units], [1, 1] or [1, units]).
func (im *importer) bias(n *nodeProto, k int, role string, units int) ([]float32, error) {
	v, t, err := im.constFloats(n, k, role)
	if err != nil {
		return nil, err
	}
	bad := fmt.Errorf("input %s %q has shape %v, which does not broadcast to [N, %d] as a bias", role, n.inputs[k], t.dims, units)
	if len(t.dims) > 2 || (len(t.dims) == 2 && t.dims[0] != 1) {
		return nil, bad
	}
	last := int64(1)
	if len(t.dims) > 0 {
		last = t.dims[len(t.dims)-1]
	}
	switch {
	case last == int64(units):
		return v, nil
	case last == 1:
		b := make([]float32, units)
		for j := range b {
			b[j] = v[0]
		}
		return b, nil
	}
	return nil, bad
}

func (im *importer) add(n *nodeProto, data int, at attrSet) error {
	if err := at.only(); err != nil {
		return err
	}
	if len(n.inputs) != 2 {
		return fmt.Errorf("has %d inputs, want 2", len(n.inputs))
	}
	if im.dense == nil || !im.biasOpen {
		return errors.New("adds a constant, but does not follow a MatMul or a Gemm without bias; only a Dense layer's bias can be added")
	}
	b, err := im.bias(n, 1-data, "bias", im.dense.units)
	if err != nil {
		return err
	}
	im.dense.bias, im.biasOpen = b, false
	return nil
}

// activations maps ONNX's operators to mlp's activation names.
var activations = map[string]string{"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax"}

func (im *importer) activation(n *nodeProto, at attrSet) error {
	if n.opType == "Softmax" {
		if err := at.only("axis"); err != nil {
			return err
		}
		// The default axis was 1 until opset 13 (which also changed
		// what an axis means for more than 2 dimensions; an MLP's
		// softmax sees 2).
		def := int64(-1)
		if im.opset < 13 {
			def = 1
		}
		axis, err := at.int("axis", def)
		if err != nil {
			return err
		}
		rank := int64(len(im.shape) + 1)
		if axis < -rank || axis >= rank {
			return fmt.Errorf("axis=%d is out of range for its input %s", axis, batchShape(im.shape))
		}
		if axis < 0 {
			axis += rank
		}
		if axis != rank-1 {
			return fmt.Errorf("a softmax over axis %d of %s is not supported; only over the last axis (-1, or 1 for 2-D)",
				axis, batchShape(im.shape))
		}
	} else if err := at.only(); err != nil {
		return err
	}
	if len(n.inputs) != 1 {
		return fmt.Errorf("has %d inputs, want 1", len(n.inputs))
	}
	switch {
	case im.dense == nil:
		return errors.New("does not follow a Dense layer (Gemm, or MatMul and Add); only a Dense layer's activation is supported")
	case im.dense.act != "":
		return fmt.Errorf("follows the %s activation of the same Dense layer; only one activation per layer is supported", im.dense.act)
	}
	im.dense.act = activations[n.opType]
	im.biasOpen = false
	return nil
}

func (im *importer) flatten(n *nodeProto, data int, at attrSet) error {
	if err := at.only("axis"); err != nil {
		return err
	}
	axis, err := at.int("axis", 1)
	if err != nil {
		return err
	}
	rank := int64(len(im.shape) + 1)
	if axis < -rank || axis > rank {
		return fmt.Errorf("axis=%d is out of range for its input %s", axis, batchShape(im.shape))
	}
	if axis < 0 {
		axis += rank
	}
	if axis != 1 {
		return fmt.Errorf("only axis 1 (keep the batch, flatten each sample) is supported, got axis %d", axis)
	}
	if len(n.inputs) != 1 {
		return fmt.Errorf("has %d inputs, want 1", len(n.inputs))
	}
	im.addFlatten(n)
	return nil
}

func (im *importer) reshape(n *nodeProto, data int, at attrSet) error {
	if err := at.only("allowzero"); err != nil {
		return err
	}
	allowZero, err := at.int("allowzero", 0)
	if err != nil {
		return err
	}
	if len(n.inputs) != 2 || data != 0 {
		return errors.New("want 2 inputs, the previous layer's output then the target shape")
	}
	t := im.consts[n.inputs[1]]
	if t == nil {
		return fmt.Errorf("the target shape %q must be a constant", n.inputs[1])
	}
	s, err := t.int64s(8)
	if err != nil {
		return fmt.Errorf("target shape %q: %v", n.inputs[1], err)
	}
	features := 1
	for _, d := range im.shape {
		features *= d
	}
	// The target must be [N, features]: the batch kept (0 copies it
	// unless allowzero, -1 infers it) and each sample flattened (given,
	// or inferred when the batch is copied).
	ok := len(s) == 2 &&
		((s[0] == 0 && allowZero == 0) || s[0] == -1) &&
		(s[1] == int64(features) || (s[1] == -1 && s[0] == 0 && allowZero == 0))
	if !ok {
		return fmt.Errorf("target shape %v (allowzero=%d) on input %s: only flattening each sample, [-1, %d] or [0, -1], is supported",
			s, allowZero, batchShape(im.shape), features)
	}
	im.addFlatten(n)
	return nil
}

// addFlatten adds a Flatten layer, ending the pending Dense layer.
func (im *importer) addFlatten(n *nodeProto) {
	im.closeDense()
	features := 1
	for _, d := range im.shape {
		features *= d
	}
	im.layers = append(im.layers, &layerSpec{flatten: true, name: n.name})
	im.shape = []int{features}
}

// dropout passes the value through: Dropout is the identity in inference,
// and whether the model was trained with it is no part of the graph's
// meaning. A Dropout forced into training mode is refused.
func (im *importer) dropout(n *nodeProto, data int, at attrSet) error {
	if err := at.only("ratio", "seed"); err != nil {
		return err
	}
	if data != 0 || len(n.inputs) > 3 {
		return errors.New("want the previous layer's output first, then optionally ratio and training_mode")
	}
	if len(n.inputs) == 3 && n.inputs[2] != "" {
		t := im.consts[n.inputs[2]]
		if t == nil {
			return fmt.Errorf("training_mode %q must be a constant", n.inputs[2])
		}
		on, err := t.boolScalar()
		if err != nil {
			return fmt.Errorf("training_mode %q: %v", n.inputs[2], err)
		}
		if on {
			return errors.New("training_mode is true: the graph drops values at random, which no inference model does")
		}
	}
	return nil
}

// build makes the model from the layers found.
func (im *importer) build(model *modelProto, g *graphProto, inShape []int) (*mlp.Sequential, error) {
	dense := 0
	for _, l := range im.layers {
		if !l.flatten {
			dense++
		}
	}
	if dense == 0 {
		return nil, errors.New("the graph has no Dense layer (Gemm, or MatMul and Add)")
	}
	// Our own files name the nodes after the layers; other exporters'
	// names (PyTorch's "/1/Gemm") are no layer names, so those get
	// Keras's defaults, without touching mlp's counters.
	ours := model.producerName == ProducerName
	counts := map[string]int{}
	name := func(l *layerSpec, base string) string {
		if ours && l.name != "" {
			return l.name
		}
		k := counts[base]
		counts[base]++
		if k == 0 {
			return base
		}
		return base + "_" + strconv.Itoa(k)
	}
	layers := make([]*mlp.Layer, 0, len(im.layers))
	weights := make([][]float32, 0, 2*dense)
	for i, l := range im.layers {
		var opts []mlp.LayerOption
		if i == 0 {
			opts = append(opts, mlp.InputShape(inShape...))
		}
		if l.flatten {
			layers = append(layers, mlp.Flatten(append(opts, mlp.Name(name(l, "flatten")))...))
			continue
		}
		layers = append(layers, mlp.Dense(l.units, l.act, append(opts, mlp.Name(name(l, "dense")))...))
		weights = append(weights, l.kernel, l.bias)
	}
	modelName := g.name
	if modelName == "" {
		modelName = "sequential"
	}
	m := mlp.NewSequential(modelName, layers...)
	if err := m.Err(); err != nil {
		return nil, fmt.Errorf("building the model: %w", err)
	}
	if err := m.SetWeights(weights); err != nil {
		return nil, fmt.Errorf("building the model: %w", err)
	}
	return m, nil
}
