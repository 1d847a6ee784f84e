package mlp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// TestFromLogits: a linear output layer trains with the from-logits loss;
// it evaluates to the bits of the softmax model with the same weights,
// its Predict returns the logits, and the loss survives Save and Load.
func TestFromLogits(t *testing.T) {
	x, y := synth(200, 6, 3, 7)
	lin := NewSequential("", Dense(5, "relu", InputShape(6)), Dense(3, "linear"))
	soft := NewSequential("", Dense(5, "relu", InputShape(6)), Dense(3, "softmax"))
	if err := lin.Compile(optim.Adam{}, "sparse_categorical_crossentropy"); err == nil || !strings.Contains(err.Error(), SparseCategoricalCrossentropyFromLogits) {
		t.Errorf("plain loss on a linear output: %v", err)
	}
	if err := soft.Compile(optim.Adam{}, SparseCategoricalCrossentropyFromLogits); err == nil || !strings.Contains(err.Error(), "linear") {
		t.Errorf("from-logits loss on a softmax output: %v", err)
	}
	if err := lin.Compile(optim.Adam{}, SparseCategoricalCrossentropyFromLogits, "accuracy"); err != nil {
		t.Fatal(err)
	}
	if err := soft.Compile(optim.Adam{}, SparseCategoricalCrossentropy, "accuracy"); err != nil {
		t.Fatal(err)
	}
	if err := soft.SetWeights(lin.Weights()); err != nil {
		t.Fatal(err)
	}
	cfg := FitConfig{Epochs: 3, Verbose: VerboseSilent, Seed: 4}
	hl, err1 := lin.Fit(x, y, cfg)
	hs, err2 := soft.Fit(x, y, cfg)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for e := range 3 {
		if hl.History["loss"][e] != hs.History["loss"][e] {
			t.Errorf("epoch %d: loss %v from logits, %v with softmax", e, hl.History["loss"][e], hs.History["loss"][e])
		}
	}
	silent := EvalConfig{Verbose: VerboseSilent}
	a, _ := lin.EvaluateWith(x, y, silent)
	b, _ := soft.EvaluateWith(x, y, silent)
	if a != b {
		t.Errorf("Evaluate: %v from logits, %v with softmax", a, b)
	}
	logits, probs := make([]float32, 3), make([]float32, 3)
	if err := lin.Predict(x[:6], logits); err != nil {
		t.Fatal(err)
	}
	if err := soft.Predict(x[:6], probs); err != nil {
		t.Fatal(err)
	}
	if sum := logits[0] + logits[1] + logits[2]; sum > 0.999 && sum < 1.001 && logits[0] >= 0 {
		t.Errorf("Predict of the linear model looks like probabilities: %v", logits)
	}
	path := filepath.Join(t.TempDir(), "l.safetensors")
	if err := lin.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil || l.Loss() != SparseCategoricalCrossentropyFromLogits {
		t.Errorf("loaded loss %q, %v", l.Loss(), err)
	}
	u := NewSequential("", Dense(3, "linear", InputShape(6)))
	if _, err := u.EvaluateWith(x, y, silent); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("uncompiled: %v", err)
	}
}
