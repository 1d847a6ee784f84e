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
