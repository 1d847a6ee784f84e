package mlp_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// Stop after the first epoch with the optimizer saved, then resume in
// another process: the same Seed and InitialEpoch make the second epoch
// what it would have been without the stop.
func ExampleSequential_Save() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "checkpoint.safetensors")

	x := make([]float32, 64*3)
	y := make([]int32, 64)
	for i := range y {
		y[i] = int32(i % 2)
		x[3*i+int(y[i])] = 1
	}
	cfg := mlp.FitConfig{Epochs: 2, Seed: 42, Verbose: mlp.VerboseSilent}

	m := mlp.NewSequential("", mlp.Dense(4, "relu", mlp.InputShape(3)), mlp.Dense(2, "softmax"))
	if err := m.Compile(optim.Adam{LearningRate: 0.01}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := m.Fit(x, y, cfg); err != nil {
		log.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}

	resumed, err := mlp.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resumed.Optimizer(), "after", resumed.Iterations(), "steps")
	cfg.Epochs, cfg.InitialEpoch = 2, 1
	h, err := resumed.Fit(x, y, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("epochs", h.Epoch, "steps", resumed.Iterations())
	// Output:
	// Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False) after 2 steps
	// epochs [1] steps 4
}
