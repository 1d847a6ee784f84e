package mlp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// exampleData returns n samples of 16 values in 4 classes that a small
// model learns quickly.
func exampleData(n int) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float32, n*16), make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(4))
		for j := 0; j < 16; j++ {
			x[i*16+j] = r.Float32()
			if j%4 == int(y[i]) {
				x[i*16+j] += 1
			}
		}
	}
	return x, y
}

// Chapter 7-3's model: Dropout after the hidden layer, as
// keras.layers.Dropout(0.3). It drops units only while training. (The
// summary's rows are padded to 65 columns; the example trims them.)
func ExampleDropout() {
	mlp.ResetNames()
	m := mlp.NewSequential("", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dropout(0.3), mlp.Dense(10, "softmax"))
	var b strings.Builder
	if err := m.Summary(&b); err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		fmt.Println(strings.TrimRight(line, " "))
	}
	// Output:
	// Model: "sequential"
	// _________________________________________________________________
	//  Layer (type)                Output Shape              Param #
	// =================================================================
	//  flatten (Flatten)           (None, 784)               0
	//
	//  dense (Dense)               (None, 100)               78500
	//
	//  dropout (Dropout)           (None, 100)               0
	//
	//  dense_1 (Dense)             (None, 10)                1010
	//
	// =================================================================
	// Total params: 79510 (310.59 KB)
	// Trainable params: 79510 (310.59 KB)
	// Non-trainable params: 0 (0.00 Byte)
	// _________________________________________________________________
}

// Save the weights of a trained model, load them into the same
// architecture built again, and predict classes, as chapter 7-3 does with
// save_weights, load_weights and np.argmax(model.predict(x), axis=-1).
func ExampleSequential_LoadWeights() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model-weights.safetensors")

	modelFn := func() *mlp.Sequential {
		return mlp.NewSequential("", mlp.Dense(8, "relu", mlp.InputShape(16)), mlp.Dropout(0.3), mlp.Dense(4, "softmax"))
	}
	x, y := exampleData(512)
	mlp.SetRandomSeed(1)
	m := modelFn()
	if err := m.Compile(optim.Adam{LearningRate: 0.01}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Fit(x, y, mlp.FitConfig{Epochs: 10, Verbose: mlp.VerboseSilent, Seed: 1}); err != nil {
		log.Fatal(err)
	}
	if err := m.SaveWeights(path); err != nil {
		log.Fatal(err)
	}

	fresh := modelFn()
	if err := fresh.LoadWeights(path); err != nil {
		log.Fatal(err)
	}
	classes := make([]int32, len(y))
	if err := fresh.PredictClasses(x, classes); err != nil {
		log.Fatal(err)
	}
	right := 0
	for i, c := range classes {
		if c == y[i] {
			right++
		}
	}
	fmt.Printf("agreement with the labels: %.2f\n", float64(right)/float64(len(y)))
	// Output:
	// agreement with the labels: 1.00
}

// Stop training from outside, as a server does on shutdown or a command
// on Ctrl-C: the model keeps the weights of its last step.
func ExampleSequential_FitContext() {
	x, y := exampleData(256)
	m := mlp.NewSequential("", mlp.Dense(8, "relu", mlp.InputShape(16)), mlp.Dense(4, "softmax"))
	if err := m.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Here a callback ends the context after the third epoch.
	stop := mlp.EpochEndFunc(func(_ *mlp.Training, epoch int, _ mlp.Logs) error {
		if epoch == 2 {
			cancel()
		}
		return nil
	})
	hist, err := m.FitContext(ctx, x, y, mlp.FitConfig{Epochs: 100, Verbose: mlp.VerboseSilent, Callbacks: []mlp.Callback{stop}})
	fmt.Println(errors.Is(err, context.Canceled), len(hist.Epoch), m.Iterations())
	// Output:
	// true 3 24
}
