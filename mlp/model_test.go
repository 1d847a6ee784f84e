package mlp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/optim"
)

// synth returns n samples of size in with labels in [0, classes) that
// depend on the inputs, so that a model can learn them.
func synth(n, in, classes int, seed uint64) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*in)
	y := make([]int32, n)
	for i := range n {
		c := r.IntN(classes)
		y[i] = int32(c)
		for j := range in {
			v := r.Float32()
			if j%classes == c {
				v += 1
			}
			x[i*in+j] = v
		}
	}
	return x, y
}

// small returns a compiled 6 → 5 → 3 model.
func small(t testing.TB, hidden string, opt optim.Optimizer) *Sequential {
	t.Helper()
	m := NewSequential("", Dense(5, hidden, InputShape(6)), Dense(3, "softmax"))
	if err := m.Compile(opt, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNamingSequence(t *testing.T) {
	ResetNames()
	defer ResetNames()
	got := []string{
		Dense(1, "").Name(), Dense(1, "").Name(), NewSequential("").Name(),
		Dense(1, "", Name("hidden")).Name(), NewSequential("x").Name(),
		NewSequential("").Name(), Dense(1, "").Name(), Flatten().Name(), Flatten().Name(),
		NewSequential("").Name(), Dense(1, "").Name(),
	}
	want := []string{"dense", "dense_1", "sequential", "hidden", "x", "sequential_1", "dense_2",
		"flatten", "flatten_1", "sequential_2", "dense_3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	ResetNames()
	if n := Dense(1, "").Name(); n != "dense" {
		t.Errorf("after ResetNames: %q, want dense", n)
	}
}

func TestWeightsInitAndLayout(t *testing.T) {
	SetRandomSeed(1)
	m := NewSequential("", Dense(100, "relu", InputShape(784)), Dense(10, "softmax"))
	w := m.Weights()
	shapes := m.WeightShapes()
	if !reflect.DeepEqual(shapes, [][]int{{784, 100}, {100}, {100, 10}, {10}}) {
		t.Fatalf("shapes %v", shapes)
	}
	if got := m.WeightNames(); got[0] != m.Layers()[0].Name()+"/kernel:0" || got[3] != m.Layers()[1].Name()+"/bias:0" {
		t.Errorf("weight names %v", got)
	}
	for i, lim := range []float64{math.Sqrt(6.0 / 884), math.Sqrt(6.0 / 110)} {
		k, b := w[2*i], w[2*i+1]
		var sum, sq float64
		for _, v := range k {
			if math.Abs(float64(v)) > lim {
				t.Fatalf("kernel %d value %v beyond the Glorot limit %v", i, v, lim)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(k))
		// U[-l, l) has mean 0 and variance l²/3.
		if mean := sum / n; math.Abs(mean) > 4*lim/math.Sqrt(3*n) {
			t.Errorf("kernel %d mean %v", i, mean)
		}
		if v := sq / n; math.Abs(v-lim*lim/3) > 0.1*lim*lim/3 {
			t.Errorf("kernel %d variance %v, want about %v", i, v, lim*lim/3)
		}
		for _, v := range b {
			if v != 0 {
				t.Fatalf("bias %d not zero", i)
			}
		}
	}
	// Weights returns copies.
	w[0][0] = 99
	if m.Weights()[0][0] == 99 {
		t.Error("Weights shares memory with the model")
	}
}

// TestDeterminism: the same seed gives bit-identical weights after
// training; another seed does not.
func TestDeterminism(t *testing.T) {
	x, y := synth(200, 6, 3, 3)
	run := func(seed uint64) [][]float32 {
		SetRandomSeed(seed)
		m := small(t, "tanh", optim.Adam{})
		if _, err := m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: 16, Verbose: VerboseSilent}); err != nil {
			t.Fatal(err)
		}
		return m.Weights()
	}
	a, b, c := run(5), run(5), run(6)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different weights after Fit")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same weights after Fit")
	}
}

// TestFitMatchesTrainOnBatch replays an unshuffled Fit step by step with
// TrainOnBatch on a copy of the model: the History's loss must be the
// batch-size-weighted float32 mean of the batch losses, the accuracy the
// pre-update correct count over all samples, and the weights identical.
// 7 samples in batches of 3 check that the partial batch of 1 is kept.
func TestFitMatchesTrainOnBatch(t *testing.T) {
	x, y := synth(7, 6, 3, 9)
	a := small(t, "sigmoid", nil)
	b := small(t, "sigmoid", nil)
	if err := b.SetWeights(a.Weights()); err != nil {
		t.Fatal(err)
	}
	hist, err := a.Fit(x, y, FitConfig{BatchSize: 3, NoShuffle: true, Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	var total, count, correct float32
	for lo := 0; lo < 7; lo += 3 {
		hi := min(lo+3, 7)
		l, acc, err := b.TrainOnBatch(x[lo*6:hi*6], y[lo:hi])
		if err != nil {
			t.Fatal(err)
		}
		total += float32(l) * float32(hi-lo)
		count += float32(hi - lo)
		correct += float32(math.Round(acc * float64(hi-lo)))
	}
	if got, want := hist.History["loss"][0], float64(total/count); got != want {
		t.Errorf("loss %v, want %v", got, want)
	}
	if got, want := hist.History["accuracy"][0], float64(correct/count); got != want {
		t.Errorf("accuracy %v, want %v", got, want)
	}
	if !reflect.DeepEqual(a.Weights(), b.Weights()) {
		t.Error("Fit and TrainOnBatch give different weights")
	}
	if a.Iterations() != 3 || b.Iterations() != 3 {
		t.Errorf("iterations %d, %d; want 3 (the partial batch counts)", a.Iterations(), b.Iterations())
	}
}

// TestTrainOnBatchPreUpdate: the returned loss and accuracy describe the
// weights before the update, so they equal Evaluate's before the step.
func TestTrainOnBatchPreUpdate(t *testing.T) {
	x, y := synth(20, 6, 3, 4)
	m := small(t, "relu", optim.SGD{LearningRate: 0.5})
	before, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights()
	loss, acc, err := m.TrainOnBatch(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if loss != before.Loss || acc != before.Accuracy {
		t.Errorf("TrainOnBatch (%v, %v), Evaluate before it (%v, %v)", loss, acc, before.Loss, before.Accuracy)
	}
	if reflect.DeepEqual(w, m.Weights()) {
		t.Error("TrainOnBatch did not change the weights")
	}
	after, _ := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent})
	if after.Loss >= before.Loss {
		t.Errorf("loss did not fall after a step: %v → %v", before.Loss, after.Loss)
	}
}

func TestPredictIsSoftmax(t *testing.T) {
	x, _ := synth(70, 6, 3, 2)
	m := small(t, "tanh", nil)
	out := make([]float32, 70*3)
	if err := m.Predict(x, out); err != nil {
		t.Fatal(err)
	}
	// Reference forward pass in float64.
	w := m.Weights()
	for i := range 70 {
		h := make([]float64, 5)
		for j := range 5 {
			s := float64(w[1][j])
			for k := range 6 {
				s += float64(x[i*6+k]) * float64(w[0][k*5+j])
			}
			h[j] = math.Tanh(s)
		}
		z := make([]float64, 3)
		var mx, sum float64 = math.Inf(-1), 0
		for j := range 3 {
			s := float64(w[3][j])
			for k := range 5 {
				s += h[k] * float64(w[2][k*3+j])
			}
			z[j] = s
			mx = math.Max(mx, s)
		}
		for j := range 3 {
			sum += math.Exp(z[j] - mx)
		}
		for j := range 3 {
			p := math.Exp(z[j]-mx) / sum
			if d := math.Abs(float64(out[i*3+j]) - p); d > 1e-6 {
				t.Fatalf("Predict[%d,%d] = %v, float64 reference %v", i, j, out[i*3+j], p)
			}
		}
	}
}

func TestHistoryKeys(t *testing.T) {
	x, y := synth(40, 6, 3, 5)
	for _, c := range []struct {
		metric []string
		val    bool
		want   []string
	}{
		{[]string{"accuracy"}, true, []string{"loss", "accuracy", "val_loss", "val_accuracy"}},
		{[]string{"acc"}, true, []string{"loss", "acc", "val_loss", "val_acc"}},
		{[]string{"sparse_categorical_accuracy"}, false, []string{"loss", "sparse_categorical_accuracy"}},
		{nil, true, []string{"loss", "val_loss"}},
	} {
		m := NewSequential("", Dense(4, "relu", InputShape(6)), Dense(3, "softmax"))
		if err := m.Compile(nil, "sparse_categorical_crossentropy", c.metric...); err != nil {
			t.Fatal(err)
		}
		cfg := FitConfig{Epochs: 3, Verbose: VerboseSilent}
		if c.val {
			cfg.ValidationData = &Data{X: x[:60], Y: y[:10]}
		}
		h, err := m.Fit(x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(h.Keys, c.want) || len(h.History) != len(c.want) {
			t.Errorf("metrics %v: keys %v (map %v), want %v", c.metric, h.Keys, h.History, c.want)
		}
		for _, k := range c.want {
			if len(h.History[k]) != 3 {
				t.Errorf("History[%q] has %d entries, want 3", k, len(h.History[k]))
			}
		}
		if !reflect.DeepEqual(h.Epoch, []int{0, 1, 2}) {
			t.Errorf("Epoch %v", h.Epoch)
		}
	}
}

// TestValidationSplit: the last 20 % are held out before shuffling, so the
// run equals one with those samples given as ValidationData.
func TestValidationSplit(t *testing.T) {
	x, y := synth(50, 6, 3, 6)
	a := small(t, "relu", optim.Adam{})
	b := small(t, "relu", optim.Adam{})
	if err := b.SetWeights(a.Weights()); err != nil {
		t.Fatal(err)
	}
	ha, err := a.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 8, Seed: 3, ValidationSplit: 0.2, Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.Fit(x[:40*6], y[:40], FitConfig{Epochs: 2, BatchSize: 8, Seed: 3, Verbose: VerboseSilent,
		ValidationData: &Data{X: x[40*6:], Y: y[40:]}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ha.History, hb.History) {
		t.Errorf("ValidationSplit history %v\nValidationData history %v", ha.History, hb.History)
	}
	if _, err := a.Fit(x[:6], y[:1], FitConfig{ValidationSplit: 0.5, Verbose: VerboseSilent}); err == nil {
		t.Error("ValidationSplit of a single sample: no error")
	}
}

// TestRepeatedCompileAndFit: compile again keeps the weights and resets
// the optimizer; fit again continues.
func TestRepeatedCompileAndFit(t *testing.T) {
	x, y := synth(64, 6, 3, 7)
	m := small(t, "relu", optim.Adam{})
	cfg := FitConfig{BatchSize: 16, Verbose: VerboseSilent, Seed: 1}
	if _, err := m.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	if m.Iterations() != 4 {
		t.Fatalf("iterations %d after one epoch of 4 steps", m.Iterations())
	}
	if _, err := m.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	if m.Iterations() != 8 {
		t.Fatalf("iterations %d after a second Fit, want 8", m.Iterations())
	}
	w := m.Weights()
	if err := m.Compile(optim.SGD{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	if m.Iterations() != 0 || !reflect.DeepEqual(w, m.Weights()) {
		t.Fatalf("Compile again: iterations %d, weights kept %v", m.Iterations(), reflect.DeepEqual(w, m.Weights()))
	}
	// A fresh Adam after recompiling gives what a new model with the same
	// weights gives: no optimizer state survives.
	if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	n := small(t, "relu", optim.Adam{})
	if err := n.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Weights(), n.Weights()) {
		t.Error("recompiled model and fresh model with the same weights diverge")
	}
}

// TestDefaultOptimizerIsRMSprop: Compile(nil, …) trains exactly as
// RMSprop{}.
func TestDefaultOptimizerIsRMSprop(t *testing.T) {
	x, y := synth(32, 6, 3, 8)
	a := small(t, "sigmoid", nil)
	b := small(t, "sigmoid", optim.RMSprop{})
	if err := b.SetWeights(a.Weights()); err != nil {
		t.Fatal(err)
	}
	d := small(t, "sigmoid", optim.Adam{})
	if err := d.CompileNamed("", "SparseCategoricalCrossentropy", "acc"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetWeights(a.Weights()); err != nil {
		t.Fatal(err)
	}
	if a.Optimizer().Name() != "RMSprop" {
		t.Errorf("default optimizer %s", a.Optimizer().Name())
	}
	for _, m := range []*Sequential{a, b, d} {
		if _, _, err := m.TrainOnBatch(x, y); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(a.Weights(), b.Weights()) || !reflect.DeepEqual(a.Weights(), d.Weights()) {
		t.Error("nil optimizer or \"\" differs from RMSprop{}")
	}
}

// TestBuildFromData: a model without InputShape is built by Fit from the
// data, as Keras builds on the first batch.
func TestBuildFromData(t *testing.T) {
	x, y := synth(10, 6, 3, 1)
	m := NewSequential("", Dense(4, "relu"), Dense(3, "softmax"))
	if err := m.Compile(nil, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if m.Built() || len(m.Weights()) != 0 {
		t.Fatal("model built before Fit")
	}
	if err := m.Predict(x, make([]float32, 30)); err == nil {
		t.Error("Predict on an unbuilt model: no error")
	}
	// Bad validation data or split: an error, and the model stays unbuilt.
	badY := []int32{0, 1, 5}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, ValidationData: &Data{X: x[:18], Y: badY}}); err == nil || m.Built() {
		t.Fatalf("bad ValidationData: %v, built %v", err, m.Built())
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, ValidationData: &Data{X: x[:17], Y: y[:3]}}); err == nil || m.Built() {
		t.Fatalf("ValidationData of the wrong width: %v, built %v", err, m.Built())
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, ValidationSplit: 1e-17}); err == nil || m.Built() {
		t.Fatalf("ValidationSplit leaving no validation sample: %v, built %v", err, m.Built())
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent}); err != nil {
		t.Fatal(err)
	}
	if !m.Built() || m.InputSize() != 6 || m.CountParams() != 6*4+4+4*3+3 {
		t.Errorf("after Fit: built %v, input %d, params %d", m.Built(), m.InputSize(), m.CountParams())
	}
}

// TestErrorsLeaveModelUnchanged checks that every misuse returns an error
// (never a panic) and changes neither weights nor optimizer state.
func TestErrorsLeaveModelUnchanged(t *testing.T) {
	x, y := synth(10, 6, 3, 2)
	m := small(t, "relu", optim.Adam{})
	if _, _, err := m.TrainOnBatch(x, y); err != nil { // give the optimizer state
		t.Fatal(err)
	}
	w0 := m.Weights()
	it0 := m.Iterations()
	nan := append([]float32(nil), x...)
	nan[13] = float32(math.NaN())
	inf := append([]float32(nil), x...)
	inf[59] = float32(math.Inf(-1))
	badY := append([]int32(nil), y...)
	badY[4] = 3
	negY := append([]int32(nil), y...)
	negY[0] = -1
	silent := FitConfig{Verbose: VerboseSilent}
	cases := []struct {
		name string
		f    func() error
		want string
	}{
		{"label ≥ units", func() error { _, err := m.Fit(x, badY, silent); return err }, "y[4] = 3"},
		{"label < 0", func() error { _, _, err := m.TrainOnBatch(x, negY); return err }, "y[0] = -1"},
		{"x not a multiple", func() error { _, err := m.Fit(x[:59], y, silent); return err }, "not a multiple"},
		{"len(y) ≠ n", func() error { _, err := m.Fit(x, y[:9], silent); return err }, "9 labels"},
		{"NaN", func() error { _, err := m.Fit(nan, y, silent); return err }, "NaN"},
		{"Inf", func() error { _, err := m.EvaluateWith(inf, y, EvalConfig{Verbose: VerboseSilent}); return err }, "x[59]"},
		{"Predict NaN", func() error { return m.Predict(nan, make([]float32, 30)) }, "NaN"},
		{"Predict out", func() error { return m.Predict(x, make([]float32, 29)) }, "len(out)"},
		{"val label", func() error {
			_, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, ValidationData: &Data{X: x, Y: badY}})
			return err
		}, "ValidationData"},
		{"val split", func() error { _, err := m.Fit(x, y, FitConfig{ValidationSplit: 1}); return err }, "ValidationSplit"},
		{"epochs", func() error { _, err := m.Fit(x, y, FitConfig{Epochs: -1}); return err }, "negative"},
		{"verbose", func() error { _, err := m.Fit(x, y, FitConfig{Verbose: "9"}); return err }, "Verbose"},
		{"SetWeights count", func() error { return m.SetWeights(w0[:3]) }, "got 3"},
		{"SetWeights shape", func() error {
			w := m.Weights()
			w[2] = w[2][:14]
			return m.SetWeights(w)
		}, "weight 2"},
		{"unknown loss", func() error { return m.Compile(nil, "mse") }, "mse"},
		{"no loss", func() error { return m.Compile(nil, "") }, "no loss"},
		{"unknown optimizer", func() error { return m.CompileNamed("adamax", "sparse_categorical_crossentropy") }, "not implemented"},
		{"misspelt optimizer", func() error { return m.CompileNamed("adma", "sparse_categorical_crossentropy") }, "unknown optimizer"},
		{"empty validation", func() error {
			_, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, ValidationData: &Data{}})
			return err
		}, "no samples"},
		{"unknown metric", func() error { return m.Compile(nil, "sparse_categorical_crossentropy", "auc") }, "auc"},
		{"bad optimizer", func() error {
			return m.Compile(optim.Adam{LearningRate: -1}, "sparse_categorical_crossentropy")
		}, "LearningRate"},
		{"empty batch", func() error { _, _, err := m.TrainOnBatch(nil, nil); return err }, "empty"},
		{"Build other shape", func() error { return m.Build(7) }, "built for"},
		{"duplicate name", func() error { return m.Add(Dense(3, "softmax", Name(m.Layers()[0].Name()))) }, "unique"},
		{"layer reused", func() error { return NewSequential("other").Add(m.Layers()[0]) }, "already belongs"},
	}
	for _, c := range cases {
		err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if !reflect.DeepEqual(m.Weights(), w0) || m.Iterations() != it0 || len(m.Layers()) != 2 {
			t.Fatalf("%s: the model changed", c.name)
		}
	}
	// The model still trains after all that.
	if _, _, err := m.TrainOnBatch(x, y); err != nil || m.Iterations() != it0+1 {
		t.Errorf("TrainOnBatch after errors: %v, iterations %d", err, m.Iterations())
	}
}

func TestNotCompiled(t *testing.T) {
	x, y := synth(4, 6, 3, 2)
	m := NewSequential("", Dense(3, "softmax", InputShape(6)))
	w := m.Weights()
	if _, err := m.Fit(x, y, FitConfig{}); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("Fit before Compile: %v", err)
	}
	if _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("Evaluate before Compile: %v", err)
	}
	if _, _, err := m.TrainOnBatch(x, y); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("TrainOnBatch before Compile: %v", err)
	}
	if !reflect.DeepEqual(w, m.Weights()) {
		t.Error("weights changed")
	}
	// Predict needs no Compile.
	if err := m.Predict(x, make([]float32, 12)); err != nil {
		t.Error(err)
	}
	// Adding a layer undoes Compile.
	if err := m.Compile(nil, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, m, Dense(3, "softmax"))
	if _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("Evaluate after Add: %v", err)
	}
}

func TestConstructionErrors(t *testing.T) {
	m := NewSequential("bad", Dense(10, "relu", InputShape(4)), Dense(3, "swish"), Dense(3, "softmax"))
	for name, err := range map[string]error{
		"Err":     m.Err(),
		"Add":     m.Add(Dense(1, "")),
		"Summary": m.Summary(io.Discard),
		"Compile": m.Compile(nil, "sparse_categorical_crossentropy"),
		"Predict": m.Predict(make([]float32, 4), make([]float32, 3)),
	} {
		if err == nil || !strings.Contains(err.Error(), `"swish"`) {
			t.Errorf("%s: %v, want the unknown-activation error", name, err)
		}
	}
	for _, c := range []struct {
		l    *Layer
		want string
	}{
		{Dense(0, "relu"), "units = 0"},
		{Dense(2, "relu", InputShape(0)), "not positive"},
		{Dense(2, "relu", InputShape()), "at least one"},
		{Dense(2, "relu", Name("")), "empty"},
		{Dense(2, "relu", InputShape(28, 28)), "Flatten"},
	} {
		if err := NewSequential("").Add(c.l); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Add(%s): %v, want %q", c.l.Name(), err, c.want)
		}
	}
	// A non-softmax output is not supported yet.
	m2 := NewSequential("", Dense(3, "sigmoid", InputShape(4)))
	if err := m2.Compile(nil, "sparse_categorical_crossentropy"); err == nil || !strings.Contains(err.Error(), "softmax") {
		t.Errorf("Compile with a sigmoid output: %v", err)
	}
	// Build failure leaves the model unbuilt.
	m3 := NewSequential("", Dense(3, "relu"), Dense(3, "softmax"))
	if err := m3.Build(2, 2); err == nil || m3.Built() || len(m3.Weights()) != 0 {
		t.Errorf("Build(2, 2) without Flatten: %v, built %v", err, m3.Built())
	}
}

// TestVerboseOutputOfFit checks the lines Fit writes with a fake clock
// that advances one second per reading: each redraw erases the previous
// text with backspaces, the final line of each epoch carries the epoch's
// History values, and verbose=2 writes one line per epoch.
func TestVerboseOutputOfFit(t *testing.T) {
	x, y := synth(5, 6, 3, 2)
	m := small(t, "relu", nil)
	var buf bytes.Buffer
	clock := fakeClock(time.Second)
	h, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 2, Out: &buf, Now: clock,
		ValidationData: &Data{X: x, Y: y}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	parts := strings.Split(out, "\n")
	if len(parts) != 5 || parts[0] != "Epoch 1/2" || parts[2] != "Epoch 2/2" || parts[4] != "" {
		t.Fatalf("output lines %q", parts)
	}
	for e, p := range []string{parts[1], parts[3]} {
		draws := strings.Split(p, "\r")
		if len(draws) != 5 || draws[0] != "" {
			t.Fatalf("epoch %d: %d draws %q, want 4", e, len(draws)-1, draws)
		}
		// Step 1 at t=1 s after the start: 1 s/step, 2 steps left.
		if !strings.HasPrefix(draws[1], "1/3 [=========>....................] - ETA: 2s - loss: ") {
			t.Errorf("epoch %d first draw %q", e, draws[1])
		}
		// Each draw but the last is erased by as many backspaces as it
		// has characters, not counting the spaces that pad it over a
		// longer previous draw, just before the next carriage return.
		for i := 1; i < 4; i++ {
			text := strings.TrimRight(draws[i], "\b")
			if len(draws[i])-len(text) != len(strings.TrimRight(text, " ")) {
				t.Errorf("epoch %d draw %d: %d backspaces after %d characters", e, i, len(draws[i])-len(text), len(text))
			}
		}
		// The third step's draw comes at t=4 s: (4-2)/2 s per step, none left.
		if !strings.HasPrefix(draws[3], "3/3 [==============================] - ETA: 0s - loss: ") {
			t.Errorf("epoch %d third draw %q", e, draws[3])
		}
		// Final at t=5 s: 4 s since the start, (5-2)/2 = 1.5 s per step,
		// which Python's %.0f rounds to even.
		final := draws[4]
		want := "3/3 [==============================] - 4s 2s/step - loss: " + f4(h.History["loss"][e]) +
			" - accuracy: " + f4(h.History["accuracy"][e]) + " - val_loss: " + f4(h.History["val_loss"][e]) +
			" - val_accuracy: " + f4(h.History["val_accuracy"][e])
		if strings.TrimRight(final, " ") != want {
			t.Errorf("epoch %d final line\n%q\nwant\n%q", e, final, want)
		}
	}

	buf.Reset()
	h, err = m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 2, Out: &buf, Now: fakeClock(time.Second), Verbose: VerboseEpoch})
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for e := range 2 {
		want += "Epoch " + string(rune('1'+e)) + "/2\n3/3 - 1s - loss: " + f4(h.History["loss"][e]) +
			" - accuracy: " + f4(h.History["accuracy"][e]) + " - 1s/epoch - 333ms/step\n"
	}
	if buf.String() != want {
		t.Errorf("verbose=2 output\n%q\nwant\n%q", buf.String(), want)
	}

	buf.Reset()
	if _, err := m.Fit(x, y, FitConfig{Out: &buf, Verbose: VerboseSilent}); err != nil || buf.Len() != 0 {
		t.Errorf("silent Fit wrote %q (%v)", buf.String(), err)
	}
}

func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
