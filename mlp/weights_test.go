package mlp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// TestSaveWeightsLoadWeights: weights go by layer order into a model built
// again (with new automatic names), a weights file loads uncompiled, a
// whole-model file's weights load too, and a model of another shape is an
// error that says what differs and leaves the model unchanged.
func TestSaveWeightsLoadWeights(t *testing.T) {
	x, y := synth(200, 784, 10, 4)
	SetRandomSeed(1)
	a := dropoutModel(t, optim.Adam{})
	if _, err := a.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wpath, mpath := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "m.safetensors")
	if err := a.SaveWeights(wpath); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(mpath); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{wpath, mpath} {
		b := dropoutModel(t, optim.Adam{})
		if b.Layers()[1].Name() == a.Layers()[1].Name() {
			t.Fatal("the second model reuses the first's names; the test needs new ones")
		}
		if err := b.LoadWeights(path); err != nil {
			t.Fatal(err)
		}
		for i, w := range a.Weights() {
			if !sameBits(w, b.Weights()[i]) {
				t.Fatalf("%s: weights[%d] differ after LoadWeights", path, i)
			}
		}
		if b.Iterations() != 0 {
			t.Errorf("LoadWeights changed the optimizer (%d iterations)", b.Iterations())
		}
	}
	if l, err := Load(wpath); err != nil || l.Optimizer() != nil {
		t.Errorf("Load of a weights file: optimizer %v, %v", l.Optimizer(), err)
	}
	if l, err := Load(mpath); err != nil || l.Optimizer() == nil || l.Iterations() != a.Iterations() {
		t.Errorf("Load of a whole-model file: not compiled as saved (%v)", err)
	}
	// An unbuilt model is built for the file's input shape.
	u := NewSequential("", Flatten(), Dense(100, "relu"), Dense(10, "softmax"))
	if err := u.LoadWeights(wpath); err != nil || !u.Built() || u.InputSize() != 784 {
		t.Errorf("unbuilt model: %v, built %v", err, u.Built())
	}
	for _, c := range []struct {
		m    *Sequential
		want string
	}{
		{NewSequential("", Flatten(InputShape(28, 28)), Dense(50, "relu"), Dense(10, "softmax")), "needs (784, 50)"},
		{NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(100, "relu"), Dense(10, "softmax")), "has 3 ("},
	} {
		before := c.m.Weights()
		err := c.m.LoadWeights(wpath)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "w.safetensors") {
			t.Errorf("mismatch: %v, want %q", err, c.want)
		}
		for i, w := range c.m.Weights() {
			if !sameBits(w, before[i]) {
				t.Errorf("a failed LoadWeights changed weights[%d]", i)
			}
		}
	}
	if err := a.LoadWeights(filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestKerasNamesRefused: no safetensors file under a Keras name, and Load
// names Keras's formats when it is given one.
func TestKerasNamesRefused(t *testing.T) {
	m := small(t, "relu", optim.Adam{})
	dir := t.TempDir()
	for _, name := range []string{"model.h5", "W.H5", "m.hdf5", "model-whole.keras"} {
		p := filepath.Join(dir, name)
		for op, err := range map[string]error{"Save": m.Save(p), "SaveWeights": m.SaveWeights(p)} {
			if err == nil || !strings.Contains(err.Error(), "safetensors") {
				t.Errorf("%s(%s): %v", op, name, err)
			}
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was written", name)
		}
	}
	for name, head := range map[string]string{"k.h5": "\x89HDF\r\n\x1a\n", "k.keras": "PK\x03\x04zip!"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(head+strings.Repeat("\x00", 64)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "Keras") {
			t.Errorf("Load(%s): %v", name, err)
		}
	}
}
