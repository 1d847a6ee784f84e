package mlp_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/simdmlp/simdmlp/mlp"
)

// Train once, save, and load the model back elsewhere.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	m := mlp.NewSequential("classifier", mlp.Flatten(mlp.InputShape(2, 2), mlp.Name("pixels")), mlp.Dense(3, "softmax", mlp.Name("out")))
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := mlp.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded)
	fmt.Println(loaded.WeightNames(), loaded.WeightShapes())
	// Output:
	// Sequential "classifier": pixels (Flatten) → out (Dense)
	// [out/kernel:0 out/bias:0] [[4 3] [3]]
}

// A Predictor serves many goroutines at once from one snapshot of the
// weights.
func ExampleSequential_Predictor() {
	m := mlp.NewSequential("", mlp.Dense(4, "relu", mlp.InputShape(3)), mlp.Dense(2, "softmax"))
	p, err := m.Predictor()
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, p.OutputSize())
			if err := p.PredictOne([]float32{float32(g), 1, 2}, out); err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	fmt.Println(p.InputSize(), "inputs →", p.OutputSize(), "outputs")
	// Output:
	// 3 inputs → 2 outputs
}

// An int8 predictor: a quarter of the weights' bytes, the same methods,
// saved and loaded like a model.
func ExampleSequential_QuantizedPredictor() {
	mlp.SetRandomSeed(1)
	m := mlp.NewSequential("tiny", mlp.Dense(8, "relu", mlp.InputShape(4)), mlp.Dense(3, "softmax"))
	q, err := m.QuantizedPredictor()
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny-int8.safetensors")
	if err := q.Save(path); err != nil {
		log.Fatal(err)
	}
	back, err := mlp.LoadPredictor(path)
	if err != nil {
		log.Fatal(err)
	}
	out := make([]float32, back.OutputSize())
	if err := back.PredictOne([]float32{0.1, 0.2, 0.3, 0.4}, out); err != nil {
		log.Fatal(err)
	}
	var sum float32
	for _, v := range out {
		sum += v
	}
	fmt.Println(back.Precision(), back.InputSize(), "inputs →", back.OutputSize(), "outputs")
	fmt.Printf("probabilities sum to %.3f\n", sum)
	// Output:
	// int8 4 inputs → 3 outputs
	// probabilities sum to 1.000
}
