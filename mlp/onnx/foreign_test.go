package onnx

import (
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// TestForeignPatterns reads the graphs other exporters write for the same
// MLP, each bent one way, and checks the layers found and the predictions
// against the float64 reference of the fixture's weights.
func TestForeignPatterns(t *testing.T) {
	f := newFixture()
	const torchLayers = `Sequential "torch_jit": flatten (Flatten) → dense (Dense) → dense_1 (Dense)`
	const tfLayers = `Sequential "sequential": flatten (Flatten) → dense (Dense) → dense_1 (Dense)`
	softmax := f.ref("softmax")
	cases := []struct {
		name   string
		model  func(t *testing.T) *modelProto
		layers string
		ref    []refLayer
	}{
		{"torch", func(*testing.T) *modelProto { return f.torchModel() }, torchLayers, softmax},
		{"torch opset 11, Softmax with the default axis", func(*testing.T) *modelProto {
			m := f.torchModel()
			m.opsetImport = []opsetID{{domain: "ai.onnx", version: 11}}
			m.graph.nodes[4].attrs = nil
			return m
		}, torchLayers, softmax},
		{"IR 3 initializers listed as inputs", func(*testing.T) *modelProto {
			m := f.torchModel()
			m.irVersion = 3
			m.opsetImport = []opsetID{{version: 9}}
			for _, x := range m.graph.initializers {
				m.graph.inputs = append(m.graph.inputs, &valueInfo{name: x.name, elemType: dtFloat})
			}
			return m
		}, torchLayers, softmax},
		{"Gemm alpha and beta", func(t *testing.T) *modelProto {
			m := f.torchModel()
			findNode(t, m.graph, "/1/Gemm").attrs = []*attrProto{floatAttr("alpha", 0.5), floatAttr("beta", 2), intAttr("transB", 1)}
			return m
		}, torchLayers, func() []refLayer {
			r := f.ref("softmax")
			r[0].kernel = scaled(r[0].kernel, 0.5)
			r[0].bias = scaled(r[0].bias, 2)
			return r
		}()},
		{"Gemm without C, then Add of a [1, units] bias", func(t *testing.T) *modelProto {
			m := f.torchModel()
			g := findNode(t, m.graph, "/1/Gemm")
			g.inputs = g.inputs[:2]
			g.outputs = []string{"gemm_no_bias"}
			findInit(t, m.graph, "1.bias").dims = []int64{1, fxH}
			insertNode(m.graph, 2, mkNode("bias_add", "Add", []string{"gemm_no_bias", "1.bias"}, []string{"/1/Gemm_output_0"}))
			return m
		}, torchLayers, softmax},
		{"Constant nodes with float_data", func(t *testing.T) *modelProto {
			m := f.torchModel()
			for _, name := range []string{"3.bias", "3.weight", "1.bias", "1.weight"} {
				x := removeInit(t, m.graph, name)
				v, err := x.float32s()
				if err != nil {
					t.Fatal(err)
				}
				val := &tensorProto{dims: x.dims, dataType: dtFloat, floatData: v}
				insertNode(m.graph, 0, mkNode("/Constant_"+name, "Constant", nil, []string{name},
					&attrProto{name: "value", typ: attrTensor, t: val}))
			}
			return m
		}, torchLayers, softmax},
		{"scalar bias from value_float", func(t *testing.T) *modelProto {
			m := f.torchModel()
			removeInit(t, m.graph, "3.bias")
			insertNode(m.graph, 0, mkNode("c", "Constant", nil, []string{"3.bias"}, floatAttr("value_float", 0.25)))
			return m
		}, torchLayers, func() []refLayer {
			r := f.ref("softmax")
			r[1].bias = []float32{0.25, 0.25, 0.25}
			return r
		}()},
		{"Identity on a weight and on the data", func(t *testing.T) *modelProto {
			m := f.torchModel()
			findNode(t, m.graph, "/3/Gemm").inputs[1] = "w_alias"
			findNode(t, m.graph, "/1/Gemm").outputs[0] = "gemm_raw"
			insertNode(m.graph, 2, mkNode("/Identity_1", "Identity", []string{"gemm_raw"}, []string{"/1/Gemm_output_0"}))
			insertNode(m.graph, 0, mkNode("/Identity", "Identity", []string{"3.weight"}, []string{"w_alias"}))
			return m
		}, torchLayers, softmax},
		{"Dropout with ratio and training_mode inputs and an unused mask", func(t *testing.T) *modelProto {
			m := f.torchModel()
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "dropped"
			m.graph.initializers = append(m.graph.initializers,
				&tensorProto{name: "ratio", dataType: dtFloat, floatData: []float32{0.3}},
				&tensorProto{name: "training", dataType: dtBool, rawData: []byte{0}, hasRawData: true})
			insertNode(m.graph, 3, mkNode("/Dropout", "Dropout", []string{"/2/Relu_output_0", "ratio", "training"},
				[]string{"dropped", "mask"}))
			return m
		}, torchLayers, softmax},
		{"opset 11 Dropout with a ratio attribute", func(t *testing.T) *modelProto {
			m := f.torchModel()
			m.opsetImport = []opsetID{{version: 11}}
			findNode(t, m.graph, "/3/Gemm").inputs[0] = "dropped"
			insertNode(m.graph, 3, mkNode("/Dropout", "Dropout", []string{"/2/Relu_output_0"}, []string{"dropped"},
				floatAttr("ratio", 0.5)))
			return m
		}, torchLayers, softmax},
		{"logits: no Softmax", func(t *testing.T) *modelProto {
			m := f.torchModel()
			m.graph.nodes = m.graph.nodes[:4]
			m.graph.nodes[3].outputs[0] = "output"
			return m
		}, torchLayers, f.ref("linear")},
		{"flat input, no Flatten", func(t *testing.T) *modelProto {
			m := f.torchModel()
			m.graph.nodes = m.graph.nodes[1:]
			m.graph.nodes[0].inputs[0] = "input"
			m.graph.inputs[0].shape = []dimension{{param: "N"}, {value: fxIn, hasValue: true}}
			return m
		}, `Sequential "torch_jit": dense (Dense) → dense_1 (Dense)`, softmax},
		{"unnamed graph and nodes", func(t *testing.T) *modelProto {
			m := f.torchModel()
			m.graph.name = ""
			for _, n := range m.graph.nodes {
				n.name = ""
			}
			return m
		}, `Sequential "sequential": flatten (Flatten) → dense (Dense) → dense_1 (Dense)`, softmax},
		{"tf2onnx", func(*testing.T) *modelProto { return f.tf2onnxModel() }, tfLayers, softmax},
		{"tf2onnx, Reshape to [0, -1] from a Constant's value_ints", func(t *testing.T) *modelProto {
			m := f.tf2onnxModel()
			removeInit(t, m.graph, "const_fold_opt__9")
			insertNode(m.graph, 0, mkNode("shape", "Constant", nil, []string{"const_fold_opt__9"},
				&attrProto{name: "value_ints", typ: attrInts, ints: []int64{0, -1}}))
			return m
		}, tfLayers, softmax},
	}
	x := inputs(fxBatch, fxIn, 8)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mlp.ResetNames()
			m, err := readModel(c.model(t))
			if err != nil {
				t.Fatal(err)
			}
			if s := m.String(); s != c.layers {
				t.Errorf("read %s\nwant %s", s, c.layers)
			}
			want := refForward(c.ref, x, fxBatch)
			if d := maxAbsDiff64(predict(t, m, x), want); !(d <= 1e-6) {
				t.Errorf("Predict differs from the reference by %g", d)
			}
			// Foreign layers are named with mlp.Name: mlp's own
			// counters are where ResetNames left them.
			if n := mlp.Dense(1, "").Name(); n != "dense" {
				t.Errorf("after Read the next automatic Dense name is %q, want \"dense\"", n)
			}
			if m.Loss() != "" {
				t.Errorf("the model is compiled (loss %q)", m.Loss())
			}
		})
	}
}

func scaled(v []float32, k float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] * k
	}
	return out
}
