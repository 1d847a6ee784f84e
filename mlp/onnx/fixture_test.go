package onnx

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// The fixture is a small MLP, 4×3 inputs → 5 ReLU → 3 softmax, written
// as graphs the way other exporters write them, built with this
// package's own message structs so that each test can bend one part.

const (
	fxIn    = 12 // 4×3
	fxH     = 5
	fxOut   = 3
	fxBatch = 7
)

// fixture holds the weights as PyTorch keeps them: (units, in).
type fixture struct {
	w1, b1, w2, b2 []float32
}

func newFixture() fixture {
	r := rand.New(rand.NewPCG(42, 42))
	f := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.5)
		}
		return v
	}
	return fixture{w1: f(fxH * fxIn), b1: f(fxH), w2: f(fxOut * fxH), b2: f(fxOut)}
}

// transpose turns a (rows, cols) matrix into (cols, rows).
func transpose(w []float32, rows, cols int) []float32 {
	out := make([]float32, len(w))
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = w[r*cols+c]
		}
	}
	return out
}

// ref returns the fixture as the reference forward pass takes it.
func (f fixture) ref(lastAct string) []refLayer {
	return []refLayer{
		{in: fxIn, units: fxH, kernel: transpose(f.w1, fxH, fxIn), bias: f.b1, act: "relu"},
		{in: fxH, units: fxOut, kernel: transpose(f.w2, fxOut, fxH), bias: f.b2, act: lastAct},
	}
}

func intAttr(name string, v int64) *attrProto { return &attrProto{name: name, typ: attrInt, i: v} }

func floatAttr(name string, v float32) *attrProto {
	return &attrProto{name: name, typ: attrFloat, f: v}
}

func mkNode(name, op string, ins, outs []string, attrs ...*attrProto) *nodeProto {
	return &nodeProto{name: name, opType: op, inputs: ins, outputs: outs, attrs: attrs}
}

func int64Tensor(name string, dims []int64, vals []int64) *tensorProto {
	return &tensorProto{name: name, dims: dims, dataType: dtInt64, int64Data: vals}
}

// torchModel is the fixture as torch.onnx.export writes nn.Sequential(
// Flatten, Linear, ReLU, Linear, Softmax(dim=1)) at opset 13: Gemm with
// transB=1 and explicit alpha and beta, initializers "1.weight", ….
func (f fixture) torchModel() *modelProto {
	g := &graphProto{
		name: "torch_jit",
		nodes: []*nodeProto{
			mkNode("/0/Flatten", "Flatten", []string{"input"}, []string{"/0/Flatten_output_0"}, intAttr("axis", 1)),
			mkNode("/1/Gemm", "Gemm", []string{"/0/Flatten_output_0", "1.weight", "1.bias"}, []string{"/1/Gemm_output_0"},
				floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)),
			mkNode("/2/Relu", "Relu", []string{"/1/Gemm_output_0"}, []string{"/2/Relu_output_0"}),
			mkNode("/3/Gemm", "Gemm", []string{"/2/Relu_output_0", "3.weight", "3.bias"}, []string{"/3/Gemm_output_0"},
				floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)),
			mkNode("/4/Softmax", "Softmax", []string{"/3/Gemm_output_0"}, []string{"output"}, intAttr("axis", 1)),
		},
		initializers: []*tensorProto{
			floatTensor("1.weight", []int64{fxH, fxIn}, f.w1),
			floatTensor("1.bias", []int64{fxH}, f.b1),
			floatTensor("3.weight", []int64{fxOut, fxH}, f.w2),
			floatTensor("3.bias", []int64{fxOut}, f.b2),
		},
		inputs: []*valueInfo{{name: "input", elemType: dtFloat, hasShape: true,
			shape: []dimension{{param: "batch"}, {value: 4, hasValue: true}, {value: 3, hasValue: true}}}},
		outputs: []*valueInfo{{name: "output", elemType: dtFloat, hasShape: true,
			shape: []dimension{{param: "batch"}, {value: fxOut, hasValue: true}}}},
	}
	return &modelProto{irVersion: 7, producerName: "pytorch", producerVersion: "1.13.0", graph: g,
		opsetImport: []opsetID{{version: 13}}}
}

// tf2onnxModel is the fixture as tf2onnx converts a Keras Sequential of
// Flatten, Dense(relu), Dense(softmax): Reshape to [-1, 12], then MatMul
// and Add per layer, the kernels already (in, units).
func (f fixture) tf2onnxModel() *modelProto {
	g := &graphProto{
		name: "sequential",
		nodes: []*nodeProto{
			mkNode("sequential/flatten/Reshape", "Reshape", []string{"flatten_input", "const_fold_opt__9"}, []string{"sequential/flatten/Reshape:0"}),
			mkNode("sequential/dense/MatMul", "MatMul", []string{"sequential/flatten/Reshape:0", "sequential/dense/MatMul/ReadVariableOp:0"}, []string{"sequential/dense/MatMul:0"}),
			mkNode("sequential/dense/BiasAdd", "Add", []string{"sequential/dense/MatMul:0", "sequential/dense/BiasAdd/ReadVariableOp:0"}, []string{"sequential/dense/BiasAdd:0"}),
			mkNode("sequential/dense/Relu", "Relu", []string{"sequential/dense/BiasAdd:0"}, []string{"sequential/dense/Relu:0"}),
			mkNode("sequential/dense_1/MatMul", "MatMul", []string{"sequential/dense/Relu:0", "sequential/dense_1/MatMul/ReadVariableOp:0"}, []string{"sequential/dense_1/MatMul:0"}),
			// The bias first: Add is commutative and some converters
			// write it so.
			mkNode("sequential/dense_1/BiasAdd", "Add", []string{"sequential/dense_1/BiasAdd/ReadVariableOp:0", "sequential/dense_1/MatMul:0"}, []string{"sequential/dense_1/BiasAdd:0"}),
			mkNode("sequential/dense_1/Softmax", "Softmax", []string{"sequential/dense_1/BiasAdd:0"}, []string{"dense_1"}),
		},
		initializers: []*tensorProto{
			int64Tensor("const_fold_opt__9", []int64{2}, []int64{-1, fxIn}),
			floatTensor("sequential/dense/MatMul/ReadVariableOp:0", []int64{fxIn, fxH}, transpose(f.w1, fxH, fxIn)),
			floatTensor("sequential/dense/BiasAdd/ReadVariableOp:0", []int64{fxH}, f.b1),
			floatTensor("sequential/dense_1/MatMul/ReadVariableOp:0", []int64{fxH, fxOut}, transpose(f.w2, fxOut, fxH)),
			floatTensor("sequential/dense_1/BiasAdd/ReadVariableOp:0", []int64{fxOut}, f.b2),
		},
		inputs: []*valueInfo{{name: "flatten_input", elemType: dtFloat, hasShape: true,
			shape: []dimension{{param: "unk__6"}, {value: 4, hasValue: true}, {value: 3, hasValue: true}}}},
		outputs: []*valueInfo{{name: "dense_1", elemType: dtFloat, hasShape: true,
			shape: []dimension{{param: "unk__7"}, {value: fxOut, hasValue: true}}}},
	}
	return &modelProto{irVersion: 8, producerName: "tf2onnx", producerVersion: "1.16.1", graph: g,
		opsetImport: []opsetID{{version: 13}, {domain: "ai.onnx.ml", version: 2}}}
}

// readModel encodes m and reads it back.
func readModel(m *modelProto) (*mlp.Sequential, error) {
	return Read(bytes.NewReader(m.marshal()))
}

// findNode returns the node of g with the given name.
func findNode(t *testing.T, g *graphProto, name string) *nodeProto {
	t.Helper()
	for _, n := range g.nodes {
		if n.name == name {
			return n
		}
	}
	t.Fatalf("no node %q", name)
	return nil
}

func findInit(t *testing.T, g *graphProto, name string) *tensorProto {
	t.Helper()
	for _, x := range g.initializers {
		if x.name == name {
			return x
		}
	}
	t.Fatalf("no initializer %q", name)
	return nil
}

// removeInit takes an initializer out of g and returns it.
func removeInit(t *testing.T, g *graphProto, name string) *tensorProto {
	t.Helper()
	for i, x := range g.initializers {
		if x.name == name {
			g.initializers = append(g.initializers[:i], g.initializers[i+1:]...)
			return x
		}
	}
	t.Fatalf("no initializer %q", name)
	return nil
}

// insertNode puts n before node index i.
func insertNode(g *graphProto, i int, n *nodeProto) {
	g.nodes = append(g.nodes[:i], append([]*nodeProto{n}, g.nodes[i:]...)...)
}
