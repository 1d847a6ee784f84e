package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// resumeModel is a small classifier, compiled with opt, whose weights
// depend only on the seed.
func resumeModel(t *testing.T, opt optim.Optimizer) *Sequential {
	t.Helper()
	SetRandomSeed(17)
	m := NewSequential("r", Flatten(InputShape(6, 5)), Dense(16, "relu"), Dense(10, "softmax"))
	if err := m.Compile(opt, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

func weightsBitsEqual(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// Two epochs straight give the bits of one epoch, SaveWith with the
// optimizer, Load, and Fit from InitialEpoch 1: the file holds everything
// training carries between epochs.
func TestSaveOptimizerResumesFitExactly(t *testing.T) {
	// 230 samples in batches of 32 leave a partial last batch.
	x, y := synth(230, 30, 10, 4)
	cfg := func(epochs, initial int) FitConfig {
		return FitConfig{Epochs: epochs, InitialEpoch: initial, Seed: 99, Verbose: VerboseSilent}
	}
	for i, opt := range registeredOptimizers(t,
		optim.Adam{Amsgrad: true, LearningRate: 0.01},
		optim.SGD{Momentum: 0.9, Nesterov: true}, optim.Adagrad{LearningRate: 0.05},
		optim.RMSprop{Momentum: 0.3, Centered: true, Options: optim.Options{Clipnorm: 1}},
		// Explicit zeros, which the file must keep apart from defaults.
		optim.Adam{LearningRate: 0.01, Beta1: optim.Zero, Options: optim.Options{WeightDecay: optim.Zero}},
	) {
		// The defaults may carry no state that changes the next step (SGD
		// without momentum); the configurations listed carry some, and
		// must show that it is saved.
		stateful := i >= len(optim.Names())
		t.Run(opt.Name(), func(t *testing.T) {
			straight := resumeModel(t, opt)
			hs, err := straight.Fit(x, y, cfg(2, 0))
			if err != nil {
				t.Fatal(err)
			}

			first := resumeModel(t, opt)
			if _, err := first.Fit(x, y, cfg(1, 0)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := first.Save(path); err != nil {
				t.Fatal(err)
			}
			resumed, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(resumed.Optimizer(), opt) || resumed.Iterations() != first.Iterations() {
				t.Fatalf("loaded optimizer %v after %d steps, saved %v after %d", resumed.Optimizer(), resumed.Iterations(), opt, first.Iterations())
			}
			hr, err := resumed.Fit(x, y, cfg(2, 1))
			if err != nil {
				t.Fatal(err)
			}
			if !weightsBitsEqual(resumed.Weights(), straight.Weights()) {
				t.Error("1 epoch, save, load, 1 epoch: the weights differ from 2 epochs straight")
			}
			if !reflect.DeepEqual(hr.Epoch, []int{1}) || hr.History["loss"][0] != hs.History["loss"][1] ||
				hr.History["accuracy"][0] != hs.History["accuracy"][1] {
				t.Errorf("resumed epoch %v loss %v accuracy %v, the straight run's second epoch %v %v",
					hr.Epoch, hr.History["loss"], hr.History["accuracy"], hs.History["loss"][1], hs.History["accuracy"][1])
			}

			// Either half alone must change the result, or the check
			// above shows nothing: the weights without the optimizer,
			// and the optimizer without the skipped epoch's shuffle.
			plain, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := plain.Compile(opt, "sparse_categorical_crossentropy"); err != nil {
				t.Fatal(err)
			}
			if _, err := plain.Fit(x, y, cfg(2, 1)); err != nil {
				t.Fatal(err)
			}
			if stateful && weightsBitsEqual(plain.Weights(), straight.Weights()) {
				t.Error("a fresh optimizer resumes as exactly as the saved one; the test shows nothing")
			}
			noSkip, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := noSkip.Fit(x, y, cfg(1, 0)); err != nil {
				t.Fatal(err)
			}
			if weightsBitsEqual(noSkip.Weights(), straight.Weights()) {
				t.Error("the first epoch's shuffle again gives the same weights; the test shows nothing")
			}
		})
	}
}

func TestFitInitialEpoch(t *testing.T) {
	x, y := synth(64, 30, 10, 5)
	m := resumeModel(t, optim.SGD{})
	before := m.Weights()
	h, err := m.Fit(x, y, FitConfig{Epochs: 2, InitialEpoch: 2, Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epoch) != 0 || len(h.History["loss"]) != 0 || !weightsBitsEqual(m.Weights(), before) {
		t.Errorf("InitialEpoch = Epochs trained: epochs %v, loss %v", h.Epoch, h.History["loss"])
	}
	var out bytes.Buffer
	h, err = m.Fit(x, y, FitConfig{Epochs: 3, InitialEpoch: 1, Verbose: VerboseEpoch, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Epoch, []int{1, 2}) || !strings.HasPrefix(out.String(), "Epoch 2/3\n") || !strings.Contains(out.String(), "Epoch 3/3\n") {
		t.Errorf("epochs %v, output:\n%s", h.Epoch, out.String())
	}
	if _, err := m.Fit(x, y, FitConfig{InitialEpoch: -1}); err == nil || !strings.Contains(err.Error(), "InitialEpoch must not be negative") {
		t.Errorf("InitialEpoch -1: %v", err)
	}
}

// A model compiled but not yet trained saves its optimizer's initial
// state, and one saved without the optimizer loads uncompiled.
func TestSaveOptimizerStates(t *testing.T) {
	dir := t.TempDir()
	m := resumeModel(t, optim.RMSprop{Centered: true})
	p := filepath.Join(dir, "a.safetensors")
	if err := m.SaveWith(p, SaveOptions{IncludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if l.Iterations() != 0 || !reflect.DeepEqual(l.Optimizer(), optim.RMSprop{Centered: true}) {
		t.Errorf("loaded %v after %d steps", l.Optimizer(), l.Iterations())
	}
	h, _ := split(t, mustRead(t, p))
	var names, want []string
	for n := range h {
		if strings.HasPrefix(n, "optimizer/") {
			names = append(names, n)
		}
	}
	for _, slot := range []string{"velocity", "average_gradient"} {
		for _, w := range m.WeightNames() {
			want = append(want, "optimizer/"+strings.TrimSuffix(w, ":0")+"/"+slot)
		}
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("optimizer tensors %q, want %q", names, want)
	}
	if err := m.SaveWith(p, SaveOptions{ExcludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	if l, err = Load(p); err != nil || l.Optimizer() != nil {
		t.Errorf("Save without the optimizer loads %v, %v", l.Optimizer(), err)
	}
	// Save keeps the compile state by default, as Keras's model.save.
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	if l, err = Load(p); err != nil || l.Optimizer() == nil || l.Iterations() != m.Iterations() {
		t.Errorf("Save loads optimizer %v at %d iterations (want %d), %v", l.Optimizer(), l.Iterations(), m.Iterations(), err)
	}
	if err := m.SaveWith(p, SaveOptions{ExcludeOptimizer: true, IncludeOptimizer: true}); err == nil {
		t.Error("ExcludeOptimizer with IncludeOptimizer: no error")
	}
	if err := NewSequential("u", Flatten(InputShape(3)), Dense(2, "softmax")).SaveWith(p, SaveOptions{IncludeOptimizer: true}); err == nil ||
		!strings.Contains(err.Error(), "not compiled") {
		t.Errorf("uncompiled model: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadRejectsOptimizer(t *testing.T) {
	x, y := synth(40, 30, 10, 6)
	m := resumeModel(t, optim.Adam{})
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.SaveWith(p, SaveOptions{IncludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	good := mustRead(t, p)
	names := m.WeightNames()
	hidden := strings.TrimSuffix(names[0], "/kernel:0") // the first Dense layer's name
	mutate := func(f func(h map[string]any, d []byte) []byte) []byte {
		h, d := split(t, good)
		return assemble(t, h, f(h, d))
	}
	training := func(h map[string]any, f func(tc map[string]any)) {
		md := h["__metadata__"].(map[string]any)
		var tc map[string]any
		if err := json.Unmarshal([]byte(md["training_config"].(string)), &tc); err != nil {
			t.Fatal(err)
		}
		f(tc)
		b, _ := json.Marshal(tc)
		md["training_config"] = string(b)
	}
	entry := func(h map[string]any, n string) map[string]any { return h[n].(map[string]any) }
	offset := func(h map[string]any, n string) int {
		return int(entry(h, n)["data_offsets"].([]any)[0].(float64))
	}
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"not JSON", mutate(func(h map[string]any, d []byte) []byte {
			h["__metadata__"].(map[string]any)["training_config"] = "{"
			return d
		}), "not a training configuration"},
		{"unknown field", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) { tc["run_eagerly"] = true })
			return d
		}), "run_eagerly"},
		{"negative iterations", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) { tc["iterations"] = -3 })
			return d
		}), "iterations = -3 is negative"},
		{"unknown optimizer", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) { tc["optimizer_config"].(map[string]any)["class_name"] = "Nadam" })
			return d
		}), `unknown optimizer class "Nadam"`},
		{"bad optimizer argument", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) {
				tc["optimizer_config"].(map[string]any)["config"].(map[string]any)["Beta2"] = 1.5
			})
			return d
		}), "Beta2 = 1.5"},
		{"unknown loss", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) { tc["loss"] = "mse" })
			return d
		}), `unsupported loss "mse"`},
		{"missing slot", mutate(func(h map[string]any, d []byte) []byte {
			// Renamed rather than removed, so the data stay covered.
			n := "optimizer/" + hidden + "/bias/v"
			h["optimizer/"+hidden+"/bias/w"] = h[n]
			delete(h, n)
			return d
		}), `tensor "optimizer/` + hidden + `/bias/v" is missing`},
		{"slot of another optimizer", mutate(func(h map[string]any, d []byte) []byte {
			training(h, func(tc map[string]any) {
				tc["optimizer_config"] = map[string]any{"class_name": "SGD", "config": map[string]any{}}
			})
			return d
		}), "optimizer SGD has no such slots"},
		{"slot shape", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "optimizer/"+hidden+"/kernel/m")["shape"] = []int{16, 30}
			return d
		}), "its weight has [30 16]"},
		{"negative second moment", mutate(func(h map[string]any, d []byte) []byte {
			binary.LittleEndian.PutUint32(d[offset(h, "optimizer/"+hidden+"/kernel/v")+8:], math.Float32bits(-2))
			return d
		}), `slot "v" array 0 holds -2 at index 2`},
		{"NaN moment", mutate(func(h map[string]any, d []byte) []byte {
			binary.LittleEndian.PutUint32(d[offset(h, "optimizer/"+hidden+"/bias/m"):], math.Float32bits(float32(math.NaN())))
			return d
		}), `"optimizer/` + hidden + `/bias/m" holds NaN at index 0`},
		{"optimizer tensors without config", mutate(func(h map[string]any, d []byte) []byte {
			delete(h["__metadata__"].(map[string]any), "training_config")
			return d
		}), "unexpected tensors"},
	} {
		_, err := load(c.name, bytes.NewReader(c.file), int64(len(c.file)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// The unmodified file loads: the cases above fail for their fault.
	if _, err := load("good", bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatal(err)
	}
}

// registeredOptimizers returns every optimizer of package optim with
// Keras's defaults (optim.Names), then extra: the tests that must cover
// every optimizer loop over it, so a new one is covered without a line
// here.
func registeredOptimizers(t *testing.T, extra ...optim.Optimizer) []optim.Optimizer {
	t.Helper()
	var all []optim.Optimizer
	for _, name := range optim.Names() {
		o, err := optim.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	return append(all, extra...)
}
