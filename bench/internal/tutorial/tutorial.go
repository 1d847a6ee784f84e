// Package tutorial builds the model every end-to-end benchmark of bench/
// measures, the Keras tutorial's final one, with fixed weights, so that
// the Go benchmarks and the ONNX Runtime peer (cmd/ortpeer, which exports
// it) time the same network with the same weights.
package tutorial

import (
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// Sizes of the model and of the data bench/ feeds it.
const (
	Pixels  = 28 * 28
	Classes = 10
)

// Model returns Flatten(28×28) → Dense(100, relu) → Dense(10, softmax),
// its weights drawn with seed 1, compiled with sparse categorical
// cross-entropy and Adam with Keras's defaults.
func Model() (*mlp.Sequential, error) {
	mlp.SetRandomSeed(1)
	m := mlp.NewSequential("",
		mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dense(Classes, "softmax"))
	if err := m.Err(); err != nil {
		return nil, err
	}
	if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		return nil, err
	}
	return m, nil
}
