package onnx

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// TestReadErrors bends the PyTorch-style fixture in one way per case and
// checks that Read refuses it with an error naming the node (by index and
// name) and operator at fault, and saying what is wrong.
func TestReadErrors(t *testing.T) {
	f := newFixture()
	const (
		flatten = `node 0 "/0/Flatten" (Flatten)`
		gemm1   = `node 1 "/1/Gemm" (Gemm)`
		relu    = `node 2 "/2/Relu" (Relu)`
		softmax = `node 4 "/4/Softmax" (Softmax)`
	)
	cases := []struct {
		name  string
		bend  func(t *testing.T, m *modelProto)
		wants []string
	}{
		{"unsupported op", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/2/Relu").opType = "LeakyRelu"
		}, []string{`node 2 "/2/Relu" (LeakyRelu)`, `operator "LeakyRelu" is not supported`}},
		{"unnamed node", func(t *testing.T, m *modelProto) {
			n := findNode(t, m.graph, "/2/Relu")
			n.name, n.opType = "", "Elu"
		}, []string{`node 2 (Elu)`, "not supported"}},
		{"int64 weights", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			*x = *int64Tensor("1.weight", x.dims, make([]int64, fxH*fxIn))
		}, []string{gemm1, `input B "1.weight"`, "INT64 tensor, want FLOAT"}},
		{"double weights", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			x.dataType, x.rawData = 11, make([]byte, 8*fxH*fxIn)
		}, []string{gemm1, "DOUBLE tensor"}},
		{"external data", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			x.dataLocation, x.rawData, x.hasRawData = locationExternal, nil, false
		}, []string{gemm1, `"1.weight"`, "external file"}},
		{"branch", func(t *testing.T, m *modelProto) {
			insertNode(m.graph, 3, mkNode("/side/Sigmoid", "Sigmoid", []string{"/2/Relu_output_0"}, []string{"side"}))
		}, []string{relu, `"/2/Relu_output_0" is read 2 times`, "chain"}},
		{"graph output also read by a node", func(t *testing.T, m *modelProto) {
			m.graph.outputs = append(m.graph.outputs, &valueInfo{name: "/1/Gemm_output_0", elemType: dtFloat})
		}, []string{gemm1, "is read 2 times"}},
		{"input read twice", func(t *testing.T, m *modelProto) {
			insertNode(m.graph, 1, mkNode("/x/Relu", "Relu", []string{"input"}, []string{"x"}))
		}, []string{`graph input "input" is read 2 times`}},
		{"skip connection", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "/1/Gemm_output_0"
		}, []string{gemm1, `its output "/1/Gemm_output_0" is read 2 times`}},
		{"second data input", func(t *testing.T, m *modelProto) {
			m.graph.inputs = append(m.graph.inputs, &valueInfo{name: "mask", elemType: dtFloat})
		}, []string{`inputs "input" and "mask"`}},
		{"kernel of the wrong width", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			*x = *floatTensor("1.weight", []int64{fxH, fxIn - 1}, make([]float32, fxH*(fxIn-1)))
		}, []string{gemm1, "5x11", "12 features"}},
		{"raw_data shorter than dims", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			x.rawData = x.rawData[:len(x.rawData)-4]
		}, []string{gemm1, "need 240 bytes of raw_data, found 236"}},
		{"float_data longer than dims", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "3.bias")
			x.rawData, x.hasRawData, x.floatData = nil, false, []float32{1, 2, 3, 4}
		}, []string{`node 3 "/3/Gemm" (Gemm)`, "need 3 values, float_data holds 4"}},
		{"bias of the wrong length", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.bias")
			*x = *floatTensor("1.bias", []int64{fxH - 1}, make([]float32, fxH-1))
		}, []string{gemm1, "does not broadcast to [N, 5]"}},
		{"3-D kernel", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "1.weight")
			x.dims = []int64{1, fxH, fxIn}
		}, []string{gemm1, "want 2-D"}},
		{"non-finite weight", func(t *testing.T, m *modelProto) {
			x := findInit(t, m.graph, "3.weight")
			x.rawData[7] = 0x7f
			x.rawData[6] = 0xc0
		}, []string{`node 3 "/3/Gemm" (Gemm)`, "NaN", "finite"}},
		{"Softmax over the batch axis", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/4/Softmax").attrs = []*attrProto{intAttr("axis", 0)}
		}, []string{softmax, "axis 0", "last axis"}},
		{"Softmax axis -2", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/4/Softmax").attrs = []*attrProto{intAttr("axis", -2)}
		}, []string{softmax, "axis 0"}},
		{"Softmax axis out of range", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/4/Softmax").attrs = []*attrProto{intAttr("axis", 2)}
		}, []string{softmax, "out of range"}},
		{"Softmax axis as a float", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/4/Softmax").attrs = []*attrProto{floatAttr("axis", 1)}
		}, []string{softmax, `"axis" has type 1, want INT`}},
		{"Flatten axis 2", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/0/Flatten").attrs = []*attrProto{intAttr("axis", 2)}
		}, []string{flatten, "only axis 1"}},
		{"transA", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/1/Gemm").attrs = append(findNode(t, m.graph, "/1/Gemm").attrs, intAttr("transA", 1))
		}, []string{gemm1, "transA=1"}},
		{"Gemm on an image", func(t *testing.T, m *modelProto) {
			m.graph.nodes = m.graph.nodes[1:]
			m.graph.nodes[0].inputs[0] = "input"
		}, []string{`node 0 "/1/Gemm" (Gemm)`, "needs a 2-D input [N, features], got [N, 4, 3]"}},
		{"weights times data", func(t *testing.T, m *modelProto) {
			n := findNode(t, m.graph, "/1/Gemm")
			n.opType, n.attrs = "MatMul", nil
			n.inputs = []string{"1.weight", "/0/Flatten_output_0"}
		}, []string{`node 1 "/1/Gemm" (MatMul)`, "multiplies a constant by the previous layer's output"}},
		{"Add without a Dense layer", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/1/Gemm").inputs[0] = "shifted"
			insertNode(m.graph, 1, mkNode("/shift", "Add", []string{"/0/Flatten_output_0", "1.bias"}, []string{"shifted"}))
		}, []string{`node 1 "/shift" (Add)`, "only a Dense layer's bias"}},
		{"second bias", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/2/Relu").inputs[0] = "biased"
			insertNode(m.graph, 2, mkNode("/again", "Add", []string{"/1/Gemm_output_0", "1.bias"}, []string{"biased"}))
		}, []string{`node 2 "/again" (Add)`, "does not follow a MatMul or a Gemm without bias"}},
		{"two activations", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "twice"
			insertNode(m.graph, 3, mkNode("/again/Tanh", "Tanh", []string{"/2/Relu_output_0"}, []string{"twice"}))
		}, []string{`node 3 "/again/Tanh" (Tanh)`, "follows the relu activation"}},
		{"activation before any Dense", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/1/Gemm").inputs[0] = "early"
			insertNode(m.graph, 1, mkNode("/early/Relu", "Relu", []string{"/0/Flatten_output_0"}, []string{"early"}))
		}, []string{`node 1 "/early/Relu" (Relu)`, "does not follow a Dense layer"}},
		{"Dropout in training mode", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "dropped"
			m.graph.initializers = append(m.graph.initializers,
				&tensorProto{name: "training", dataType: dtBool, int32Data: []int32{1}})
			insertNode(m.graph, 3, mkNode("/Dropout", "Dropout", []string{"/2/Relu_output_0", "", "training"}, []string{"dropped"}))
		}, []string{`node 3 "/Dropout" (Dropout)`, "training_mode is true"}},
		{"Dropout mask used", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "dropped"
			insertNode(m.graph, 3, mkNode("/Dropout", "Dropout", []string{"/2/Relu_output_0"}, []string{"dropped", "mask"}))
			m.graph.outputs = append(m.graph.outputs, &valueInfo{name: "mask", elemType: dtBool})
		}, []string{`node 3 "/Dropout" (Dropout)`, `second output "mask" is used`}},
		{"other domain", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/2/Relu").domain = "com.microsoft"
		}, []string{relu, `domain "com.microsoft"`}},
		{"unknown attribute", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/2/Relu").attrs = []*attrProto{floatAttr("alpha", 0.1)}
		}, []string{relu, `attribute "alpha" is not supported`}},
		{"undefined input", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/3/Gemm").inputs[2] = "nope"
		}, []string{`node 3 "/3/Gemm" (Gemm)`, `"nope", which no node, initializer or graph input defines`}},
		{"data as the weight", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/1/Gemm").inputs[1] = "/0/Flatten_output_0"
		}, []string{flatten, `"/0/Flatten_output_0" is read 2 times`}},
		{"output defined twice", func(t *testing.T, m *modelProto) {
			findNode(t, m.graph, "/2/Relu").outputs[0] = "1.weight"
		}, []string{relu, `output "1.weight" is already defined`}},
		{"huge declared dims", func(t *testing.T, m *modelProto) {
			findInit(t, m.graph, "1.weight").dims = []int64{1 << 40, 1 << 40}
		}, []string{gemm1, "more than 2147483647 elements"}},
		{"dims that multiply past the limit", func(t *testing.T, m *modelProto) {
			findInit(t, m.graph, "1.weight").dims = []int64{1 << 20, 1 << 20}
		}, []string{gemm1, "more than 2147483647 elements"}},
		{"negative dim", func(t *testing.T, m *modelProto) {
			findInit(t, m.graph, "1.weight").dims = []int64{-5, -12}
		}, []string{gemm1, "dimension 0 is -5"}},
		{"huge input", func(t *testing.T, m *modelProto) {
			m.graph.inputs[0].shape = []dimension{{param: "N"}, {value: 1 << 31, hasValue: true}, {value: 1 << 31, hasValue: true}}
		}, []string{`graph input "input"`, "more than 2147483647 values per sample"}},
		{"symbolic sample dimension", func(t *testing.T, m *modelProto) {
			m.graph.inputs[0].shape[1] = dimension{param: "height"}
		}, []string{`graph input "input": dimension 1 is "height"`}},
		{"int input", func(t *testing.T, m *modelProto) {
			m.graph.inputs[0].elemType = dtInt64
		}, []string{`graph input "input" is INT64`}},
		{"old opset", func(t *testing.T, m *modelProto) {
			m.opsetImport = []opsetID{{version: 6}}
		}, []string{"operator set version 6"}},
		{"no default opset", func(t *testing.T, m *modelProto) {
			m.opsetImport = []opsetID{{domain: "ai.onnx.ml", version: 3}}
		}, []string{"no version of the default ONNX operator set"}},
		{"no graph", func(t *testing.T, m *modelProto) { m.graph = nil }, []string{"no graph"}},
		{"two outputs", func(t *testing.T, m *modelProto) {
			m.graph.outputs = append(m.graph.outputs, &valueInfo{name: "3.bias", elemType: dtFloat})
		}, []string{"2 outputs"}},
		{"output not at the end", func(t *testing.T, m *modelProto) {
			m.graph.nodes = m.graph.nodes[:4]
		}, []string{`graph output "output" is not the end of the chain`}},
		{"no Dense layer", func(t *testing.T, m *modelProto) {
			m.graph.nodes = m.graph.nodes[:1]
			m.graph.nodes[0].outputs[0] = "output"
		}, []string{"no Dense layer"}},
		{"bad Reshape", func(t *testing.T, m *modelProto) {
			n := findNode(t, m.graph, "/0/Flatten")
			n.opType, n.attrs = "Reshape", nil
			n.inputs = append(n.inputs, "shape")
			m.graph.initializers = append(m.graph.initializers, int64Tensor("shape", []int64{2}, []int64{-1, 6}))
		}, []string{`node 0 "/0/Flatten" (Reshape)`, "target shape [-1 6]"}},
		{"Reshape with a float shape", func(t *testing.T, m *modelProto) {
			n := findNode(t, m.graph, "/0/Flatten")
			n.opType, n.attrs = "Reshape", nil
			n.inputs = append(n.inputs, "shape")
			m.graph.initializers = append(m.graph.initializers, floatTensor("shape", []int64{2}, []float32{-1, 12}))
		}, []string{`node 0 "/0/Flatten" (Reshape)`, "FLOAT tensor, want INT64"}},
		{"Constant with two values", func(t *testing.T, m *modelProto) {
			insertNode(m.graph, 0, mkNode("/c", "Constant", nil, []string{"c"}, floatAttr("value_float", 1), intAttr("value_int", 1)))
		}, []string{`node 0 "/c" (Constant)`, "want exactly one value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := f.torchModel()
			c.bend(t, m)
			_, err := readModel(m)
			if err == nil {
				t.Fatal("Read accepted the graph")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "onnx: Read: ") {
				t.Errorf("error %q does not start with \"onnx: Read: \"", msg)
			}
			for _, w := range c.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
		})
	}
}

// TestReadNotONNX checks files that are no ONNX model at all.
func TestReadNotONNX(t *testing.T) {
	m := mlp.NewSequential("s", mlp.Dense(3, "softmax", mlp.InputShape(4)))
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		read func() error
		want string
	}{
		{"safetensors", func() error { _, err := Load(path); return err }, "safetensors file"},
		{"empty", func() error { _, err := Read(bytes.NewReader(nil)); return err }, "empty input"},
		{"text", func() error { _, err := Read(strings.NewReader("hello, world\n")); return err }, "not a valid ONNX model"},
		{"missing file", func() error { _, err := Load(path + ".none"); return err }, "no such file"},
		{"directory", func() error { _, err := Load(filepath.Dir(path)); return err }, "not a regular file"},
	}
	for _, c := range cases {
		if err := c.read(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestReadTruncated reads every proper prefix of a file and of a PyTorch-
// style file: each must be an error, none a panic.
func TestReadTruncated(t *testing.T) {
	m := mlp.NewSequential("small", mlp.Flatten(mlp.InputShape(3, 2)), mlp.Dense(4, "tanh"), mlp.Dense(2, "softmax"))
	files := map[string][]byte{"ours": writeBytes(t, m), "torch": newFixture().torchModel().marshal()}
	for name, b := range files {
		for n := range len(b) {
			if _, err := Read(bytes.NewReader(b[:n])); err == nil {
				t.Fatalf("%s: the first %d of %d bytes read as a model", name, n, len(b))
			}
		}
	}
}

// TestReadBoundedAllocation checks that sizes declared in a file (dims,
// input shapes, lengths, counts) cost no memory beyond the bytes present.
func TestReadBoundedAllocation(t *testing.T) {
	f := newFixture()
	huge := f.torchModel()
	huge.graph.initializers[0].dims = []int64{100_000, 20_000} // 8 GB of float32
	hugeIn := f.torchModel()
	hugeIn.graph.inputs[0].shape = []dimension{{param: "N"}, {value: 50_000, hasValue: true}, {value: 40_000, hasValue: true}}
	// A graph field that claims a gigabyte, followed by a few bytes.
	claim := []byte{0x3a, 0x80, 0x80, 0x80, 0x80, 0x04, 1, 2, 3}
	// Two million empty nodes: each costs a struct when decoded.
	many := make([]byte, 0, 4<<20+8)
	many = append(many, 0x08, 8, 0x3a)
	many = appendVarintBytes(many, 4<<20)
	for range 2 << 20 {
		many = append(many, 0x0a, 0)
	}
	cases := map[string][]byte{
		"huge dims":      huge.marshal(),
		"huge input":     hugeIn.marshal(),
		"length claim":   claim,
		"too many nodes": many,
	}
	for name, b := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Read(bytes.NewReader(b))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: Read accepted it", name)
			continue
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d-byte file, %.1f MB allocated: %v", name, len(b), float64(alloc)/1e6, err)
		// The read buffer (twice the file, as it grows) and the
		// decoding budget of maxItems at most.
		if limit := uint64(2*len(b)) + 64<<20; alloc > limit {
			t.Errorf("%s: Read allocated %d bytes for a %d-byte file", name, alloc, len(b))
		}
	}
}

func appendVarintBytes(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
