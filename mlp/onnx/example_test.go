package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mlp/onnx"
	"github.com/simdmlp/simdmlp/optim"
)

// The tutorial's model goes out as an ONNX file, for ONNX Runtime or any
// other engine, and comes back with the same layers and weights; its
// Dropout layer is left out, as inference does.
func ExampleSave() {
	m := mlp.NewSequential("fashion",
		mlp.Flatten(mlp.InputShape(28, 28), mlp.Name("flatten")),
		mlp.Dense(100, "relu", mlp.Name("hidden")),
		mlp.Dropout(0.2, mlp.Name("dropout")),
		mlp.Dense(10, "softmax", mlp.Name("output")))

	dir, err := os.MkdirTemp("", "onnx-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fashion.onnx")
	if err := onnx.Save(m, path); err != nil {
		fmt.Println(err)
		return
	}

	back, err := onnx.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back)
	fmt.Println("weights:", back.WeightNames())
	// Output:
	// Sequential "fashion": flatten (Flatten) → hidden (Dense) → output (Dense)
	// weights: [hidden/kernel:0 hidden/bias:0 output/kernel:0 output/bias:0]
}

// A model exported from PyTorch comes in with Keras's layer names. This
// one, testdata/torch_tiny.onnx, is torch.onnx.export's file for
// nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3)):
// without a final softmax its outputs are logits, so it is compiled with
// the from-logits loss to be fine-tuned or evaluated.
func ExampleLoad() {
	m, err := onnx.Load(filepath.Join("testdata", "torch_tiny.onnx"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m)
	fmt.Println("input shape:", m.InputShape())
	fmt.Println("last activation:", m.Layers()[2].Activation())
	err = m.Compile(optim.Adam{}, mlp.SparseCategoricalCrossentropyFromLogits, "accuracy")
	fmt.Println("compiled:", err == nil)

	// Three samples of 3×2; PyTorch's model gives classes 0, 2 and 1.
	x := []float32{
		1, 1, 1, 1, 1, 1,
		-1, -1, -1, -1, -1, -1,
		-1, 1, -1, 1, -1, 1,
	}
	classes := make([]int32, 3)
	if err := m.PredictClasses(x, classes); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("classes:", classes)
	// Output:
	// Sequential "torch_jit": flatten (Flatten) → dense (Dense) → dense_1 (Dense)
	// input shape: [3 2]
	// last activation: linear
	// compiled: true
	// classes: [0 2 1]
}
