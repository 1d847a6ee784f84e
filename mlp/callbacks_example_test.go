package mlp_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// noisySamples returns n samples of 16 features over 4 classes, a fifth
// of them with a random label: a model fits the signal in a few epochs,
// then learns the noise and does worse on new samples.
func noisySamples(n int, seed uint64) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*16)
	y := make([]int32, n)
	for i := range n {
		c := r.IntN(4)
		for j := range 16 {
			x[i*16+j] = float32(r.NormFloat64())
			if j%4 == c {
				x[i*16+j]++
			}
		}
		if r.Float64() < 0.2 {
			c = r.IntN(4)
		}
		y[i] = int32(c)
	}
	return x, y
}

// overfittingModel is a classifier too large, with a learning rate too
// high, for 96 samples.
func overfittingModel() *mlp.Sequential {
	mlp.SetRandomSeed(3)
	m := mlp.NewSequential("", mlp.Flatten(mlp.InputShape(4, 4)), mlp.Dense(64, "relu"), mlp.Dense(4, "softmax"))
	if err := m.Compile(optim.Adam{LearningRate: 0.004}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	return m
}

// Stop when the validation loss has not improved for two epochs, and
// keep the weights of its best epoch.
func ExampleEarlyStopping() {
	x, y := noisySamples(96, 1)
	vx, vy := noisySamples(96, 2)
	m := overfittingModel()
	stop := &mlp.EarlyStopping{Patience: 2, RestoreBestWeights: true, Verbose: true}
	hist, err := m.Fit(x, y, mlp.FitConfig{
		Epochs: 25, BatchSize: 16, Seed: 9, Verbose: mlp.VerboseSilent,
		ValidationData: &mlp.Data{X: vx, Y: vy},
		Callbacks:      []mlp.Callback{stop},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("epochs run:", len(hist.Epoch), "of 25; stopped after epoch", stop.StoppedEpoch+1)
	fmt.Printf("best epoch: %d, val_loss %.3f\n", stop.BestEpoch()+1, stop.Best())
	// Output:
	// Restoring model weights from the end of the best epoch: 5.
	// Epoch 7: early stopping
	// epochs run: 7 of 25; stopped after epoch 7
	// best epoch: 5, val_loss 1.136
}

// Keep the model of every epoch that improved the validation loss, named
// by epoch and loss as in Keras, and a CSV log of the run.
func ExampleModelCheckpoint() {
	dir, err := os.MkdirTemp("", "checkpoints")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	x, y := noisySamples(96, 1)
	vx, vy := noisySamples(96, 2)
	m := overfittingModel()
	_, err = m.Fit(x, y, mlp.FitConfig{
		Epochs: 8, BatchSize: 16, Seed: 9, Verbose: mlp.VerboseSilent,
		ValidationData: &mlp.Data{X: vx, Y: vy},
		Callbacks: []mlp.Callback{
			&mlp.ModelCheckpoint{
				Path:         filepath.Join(dir, "models", "{epoch:02d}-{val_loss:.2f}.safetensors"),
				SaveBestOnly: true,
			},
			&mlp.CSVLogger{Path: filepath.Join(dir, "training.csv")},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "models", "*"))
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	best, err := mlp.Load(files[len(files)-1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("compiled:", best.Optimizer() != nil)
	// Output:
	// 01-1.43.safetensors
	// 02-1.28.safetensors
	// 03-1.20.safetensors
	// 04-1.15.safetensors
	// 05-1.14.safetensors
	// compiled: true
}
