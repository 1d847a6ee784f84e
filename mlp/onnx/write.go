package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"sync"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/mlp"
)

// What Save and Write write (the package documentation describes the
// whole graph).
const (
	// IRVersion is the ONNX IR version of the files Save and Write
	// produce (IR 8, ONNX 1.10 and later).
	IRVersion = 8
	// Opset is the version of the default ("ai.onnx") operator set the
	// files import.
	Opset = 13
	// ProducerName is the producer_name of the files Save and Write
	// produce; Read takes layer names from the node names of such files.
	ProducerName = "simdmlp"
	// BatchDim is the dim_param of the batch dimension of the input and
	// output.
	BatchDim = "N"
	// InputName and OutputName are the names of the graph's input and
	// output values.
	InputName  = "input"
	OutputName = "output"
)

// onnxActivation maps mlp's activation names to the ONNX operator that
// follows a layer's Gemm ("" for none).
var onnxActivation = map[string]string{
	"linear":  "",
	"relu":    "Relu",
	"sigmoid": "Sigmoid",
	"tanh":    "Tanh",
	"softmax": "Softmax",
}

// producerVersion is the module's version as the build records it: the
// tagged version when simdmlp is a dependency, "(devel)" when it is the
// main module being built from a checkout, and "devel" when the binary has
// no build information.
var producerVersion = sync.OnceValue(func() string {
	const path = "github.com/simdmlp/simdmlp"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == path && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == path && d.Version != "" {
			return d.Version
		}
	}
	return "devel"
})

// saveWriterHook, when set (by tests only), wraps the writer Save writes
// the file through, so that a test can make the write fail half-way.
var saveWriterHook func(io.Writer) io.Writer

// Save writes m to path as an ONNX model (see Write), atomically as mlp's
// Save: into a temporary file beside path, synced, then renamed over it,
// so that a failure leaves any old file at path whole and no temporary
// file behind. The model is checked before anything is written.
func Save(m *mlp.Sequential, path string) error {
	model, err := exportModel(m)
	if err != nil {
		return fmt.Errorf("onnx: Save %s: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		if saveWriterHook != nil {
			w = saveWriterHook(w)
		}
		_, err := w.Write(model.marshal())
		return err
	}); err != nil {
		return fmt.Errorf("onnx: Save: %w", err)
	}
	return nil
}

// Write writes m to w as an ONNX model: IR version 8, opset 13, the input
// shaped [N, m.InputShape()...], then per layer a Flatten(axis=1) node, or
// a Gemm node with the layer's kernel and bias as initializers followed by
// its activation (Relu, Sigmoid, Tanh, Softmax(axis=-1), none for linear);
// Dropout layers are left out (the graph is for inference). m must be
// built, hold at least one Dense layer and only finite weights; otherwise
// nothing is written.
func Write(w io.Writer, m *mlp.Sequential) error {
	model, err := exportModel(m)
	if err != nil {
		return fmt.Errorf("onnx: Write: %w", err)
	}
	if _, err := w.Write(model.marshal()); err != nil {
		return fmt.Errorf("onnx: Write: %w", err)
	}
	return nil
}

// exportModel builds the ONNX message of m.
func exportModel(m *mlp.Sequential) (*modelProto, error) {
	if m == nil {
		return nil, errors.New("nil model")
	}
	if err := m.Err(); err != nil {
		return nil, err
	}
	if !m.Built() {
		return nil, fmt.Errorf("model %q: %w", m.Name(), mlp.ErrNotBuilt)
	}
	weights := m.Weights()
	if len(weights) == 0 {
		return nil, fmt.Errorf("model %q has no Dense layer", m.Name())
	}
	names, shapes := m.WeightNames(), m.WeightShapes()
	for i, w := range weights {
		for j, v := range w {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("model %q: weight %s holds %v at index %d; only finite weights can be exported",
					m.Name(), names[i], v, j)
			}
		}
	}

	in := m.InputShape()
	g := &graphProto{name: m.Name()}
	g.inputs = []*valueInfo{batchTensor(InputName, in)}
	cur := InputName // the value the next node reads
	dense := 0       // Dense layers seen, indexing weights in pairs
	layers := m.Layers()
	// The last layer that emits a node names the graph's output value.
	lastEmitting := -1
	for i, l := range layers {
		if l.ClassName() != "Dropout" {
			lastEmitting = i
		}
	}
	for i, l := range layers {
		final := i == lastEmitting
		out := func(suffix string) string {
			if final {
				return OutputName
			}
			return l.Name() + "/" + suffix
		}
		switch l.ClassName() {
		case "Dropout":
			// Inference graph: Dropout is the identity.
		case "Flatten":
			o := out("output")
			g.nodes = append(g.nodes, &nodeProto{
				name: l.Name(), opType: "Flatten", inputs: []string{cur}, outputs: []string{o},
				attrs: []*attrProto{{name: "axis", typ: attrInt, i: 1}},
			})
			cur = o
		case "Dense":
			act, ok := onnxActivation[l.Activation()]
			if !ok {
				return nil, fmt.Errorf("layer %q: activation %q has no ONNX operator here", l.Name(), l.Activation())
			}
			kernel, bias := weights[2*dense], weights[2*dense+1]
			kShape := shapes[2*dense]
			dense++
			kName, bName := l.Name()+"/kernel", l.Name()+"/bias"
			g.initializers = append(g.initializers,
				floatTensor(kName, []int64{int64(kShape[0]), int64(kShape[1])}, kernel),
				floatTensor(bName, []int64{int64(len(bias))}, bias))
			gemmOut := out("output")
			if act != "" {
				gemmOut = l.Name() + "/gemm"
			}
			// Our kernels are (in, units) row-major: ONNX's B with
			// transB=0, the default, so no attribute is needed.
			g.nodes = append(g.nodes, &nodeProto{
				name: l.Name(), opType: "Gemm", inputs: []string{cur, kName, bName}, outputs: []string{gemmOut},
			})
			cur = gemmOut
			if act != "" {
				o := out("output")
				node := &nodeProto{name: l.Name() + "/" + act, opType: act, inputs: []string{cur}, outputs: []string{o}}
				if act == "Softmax" {
					node.attrs = []*attrProto{{name: "axis", typ: attrInt, i: -1}}
				}
				g.nodes = append(g.nodes, node)
				cur = o
			}
		default:
			return nil, fmt.Errorf("layer %q: class %s cannot be exported", l.Name(), l.ClassName())
		}
	}
	g.outputs = []*valueInfo{batchTensor(OutputName, []int{m.OutputSize()})}
	return &modelProto{
		irVersion:       IRVersion,
		producerName:    ProducerName,
		producerVersion: producerVersion(),
		graph:           g,
		opsetImport:     []opsetID{{domain: "", version: Opset}},
	}, nil
}

// batchTensor describes a float32 value of shape [N, dims...].
func batchTensor(name string, dims []int) *valueInfo {
	v := &valueInfo{name: name, elemType: dtFloat, hasShape: true}
	v.shape = append(v.shape, dimension{param: BatchDim})
	for _, d := range dims {
		v.shape = append(v.shape, dimension{value: int64(d), hasValue: true})
	}
	return v
}

// floatTensor makes an initializer holding data as little-endian float32
// raw_data, the layout every ONNX reader takes fastest.
func floatTensor(name string, dims []int64, data []float32) *tensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &tensorProto{name: name, dims: dims, dataType: dtFloat, rawData: raw, hasRawData: true}
}
