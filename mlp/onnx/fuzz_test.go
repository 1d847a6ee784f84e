package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// FuzzRead feeds Read arbitrary bytes, starting from our own file, a real
// PyTorch export (testdata/torch_tiny.onnx, made by torch_export.py
// --tiny), the PyTorch- and tf2onnx-style fixtures, and truncations of
// them. Read must return a model or an error, never panic; a model it
// returns must predict, and survive a round trip through Write bit for
// bit.
func FuzzRead(f *testing.F) {
	m := mlp.NewSequential("fuzz", mlp.Flatten(mlp.InputShape(3, 2)), mlp.Dense(4, "relu"),
		mlp.Dropout(0.5), mlp.Dense(3, "softmax"))
	var ours bytes.Buffer
	if err := Write(&ours, m); err != nil {
		f.Fatal(err)
	}
	torch, err := os.ReadFile(filepath.Join("testdata", "torch_tiny.onnx"))
	if err != nil {
		f.Fatal(err)
	}
	fx := newFixture()
	seeds := [][]byte{ours.Bytes(), torch, fx.torchModel().marshal(), fx.tf2onnxModel().marshal()}
	for _, b := range seeds {
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
		f.Add(b[:len(b)/7])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Read(bytes.NewReader(b))
		if err != nil {
			if m != nil {
				t.Fatal("Read returned a model and an error")
			}
			return
		}
		x := make([]float32, 2*m.InputSize())
		if err := m.Predict(x, make([]float32, 2*m.OutputSize())); err != nil {
			t.Fatalf("Predict on a model Read accepted: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, m); err != nil {
			t.Fatalf("Write of a model Read accepted: %v", err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read of what Write wrote: %v", err)
		}
		w1, w2 := m.Weights(), again.Weights()
		if len(w1) != len(w2) {
			t.Fatalf("%d weight tensors after the round trip, want %d", len(w2), len(w1))
		}
		for i := range w1 {
			if j, ok := sameBits(w1[i], w2[i]); !ok {
				t.Fatalf("weight %d differs at %d after the round trip", i, j)
			}
		}
	})
}
