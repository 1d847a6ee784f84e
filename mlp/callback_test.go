package mlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// recorder logs every event it receives, and can stop or fail at a given
// point.
type recorder struct {
	events    []string
	stopEpoch int // stop at the end of this epoch; -1 never
	stopBatch int // stop at the end of this step of epoch 0; -1 never
	failEpoch int // fail at the end of this epoch; -1 never
}

func newRecorder() *recorder { return &recorder{stopEpoch: -1, stopBatch: -1, failEpoch: -1} }

func (r *recorder) OnTrainBegin(t *Training) error {
	r.events = append(r.events, fmt.Sprintf("train begin %d×%d", t.Epochs(), t.Steps()))
	return nil
}

func (r *recorder) OnEpochBegin(_ *Training, e int) error {
	r.events = append(r.events, fmt.Sprintf("epoch %d begin", e))
	return nil
}

func (r *recorder) OnBatchEnd(t *Training, b int, logs Logs) error {
	if _, ok := logs["loss"]; !ok {
		return errors.New("batch logs without loss")
	}
	if b == r.stopBatch {
		t.StopTraining()
		r.events = append(r.events, fmt.Sprintf("stop at batch %d", b))
	}
	return nil
}

func (r *recorder) OnEpochEnd(t *Training, e int, logs Logs) error {
	r.events = append(r.events, fmt.Sprintf("epoch %d end %s", e, strings.Join(sortedKeys(logs), ",")))
	if e == r.stopEpoch {
		t.StopTraining()
	}
	if e == r.failEpoch {
		return errors.New("planned failure")
	}
	return nil
}

func (r *recorder) OnTrainEnd(*Training, Logs) error {
	r.events = append(r.events, "train end")
	return nil
}

func sortedKeys(l Logs) []string {
	var k []string
	for _, name := range []string{"accuracy", "loss", "val_accuracy", "val_loss"} {
		if _, ok := l[name]; ok {
			k = append(k, name)
		}
	}
	return k
}

// TestCallbackEvents: the order of the events, stopping from an epoch's
// end (that epoch completes and is in History) and from a step (the
// epoch ends there), an error (Fit returns it after OnTrainEnd).
func TestCallbackEvents(t *testing.T) {
	x, y := synth(100, 6, 3, 1)
	val := &Data{X: x[:20*6], Y: y[:20]}
	fit := func(r *recorder, epochs int) (*History, error) {
		m := small(t, "relu", optim.Adam{})
		return m.Fit(x, y, FitConfig{Epochs: epochs, BatchSize: 10, Verbose: VerboseSilent, Seed: 1,
			ValidationData: val, Callbacks: []Callback{r}})
	}
	r := newRecorder()
	r.stopEpoch = 1
	h, err := fit(r, 5)
	want := []string{"train begin 5×10",
		"epoch 0 begin", "epoch 0 end accuracy,loss,val_accuracy,val_loss",
		"epoch 1 begin", "epoch 1 end accuracy,loss,val_accuracy,val_loss", "train end"}
	if err != nil || !reflect.DeepEqual(r.events, want) || len(h.Epoch) != 2 {
		t.Errorf("stop at epoch 1: %v, %d epochs in History, events\n%q\nwant\n%q", err, len(h.Epoch), r.events, want)
	}

	r = newRecorder()
	r.stopBatch = 3
	h, err = fit(r, 5)
	if err != nil || len(h.Epoch) != 1 || r.events[len(r.events)-1] != "train end" || !strings.Contains(strings.Join(r.events, ";"), "stop at batch 3;epoch 0 end") {
		t.Errorf("stop at batch 3: %v, History %v, events %q", err, h.Epoch, r.events)
	}

	r = newRecorder()
	r.failEpoch = 2
	h, err = fit(r, 5)
	if err == nil || !strings.Contains(err.Error(), "planned failure") || !strings.Contains(err.Error(), "OnEpochEnd") ||
		len(h.Epoch) != 3 || r.events[len(r.events)-1] != "train end" {
		t.Errorf("failure at epoch 2: %v, History %v, events %q", err, h.Epoch, r.events)
	}
	if _, err := small(t, "relu", optim.Adam{}).Fit(x, y, FitConfig{Verbose: VerboseSilent, Callbacks: []Callback{nil}}); err == nil {
		t.Error("a nil callback: no error")
	}
}

// TestFitContextCancel: a cancelled context stops Fit between steps with
// ctx's error, the History of the completed epochs, OnTrainEnd called, and
// the model usable afterwards.
func TestFitContextCancel(t *testing.T) {
	x, y := synth(100, 6, 3, 1)
	m := small(t, "relu", optim.Adam{})
	ctx, cancel := context.WithCancel(context.Background())
	r := newRecorder()
	stopper := EpochEndFunc(func(_ *Training, e int, _ Logs) error {
		if e == 1 {
			cancel()
		}
		return nil
	})
	var out bytes.Buffer
	h, err := m.FitContext(ctx, x, y, FitConfig{Epochs: 5, BatchSize: 10, Out: &out, Seed: 1, Callbacks: []Callback{r, stopper}})
	if !errors.Is(err, context.Canceled) || len(h.Epoch) != 2 || r.events[len(r.events)-1] != "train end" {
		t.Fatalf("err %v, History %v, events %q", err, h.Epoch, r.events)
	}
	if !strings.Contains(err.Error(), "stopped in epoch 3 after 0 of 10 steps") || !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("err %v; output ends %q", err, out.String()[max(0, out.Len()-40):])
	}
	if m.Iterations() != 20 {
		t.Errorf("%d optimizer steps ran, want 20", m.Iterations())
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent}); err != nil {
		t.Errorf("Fit after a cancelled Fit: %v", err)
	}
}

// TestTrainingMethods: inside a callback the model's own methods report
// ErrConcurrentUse, and the Training's work.
func TestTrainingMethods(t *testing.T) {
	x, y := synth(100, 6, 3, 1)
	m := small(t, "relu", optim.Adam{})
	dir := t.TempDir()
	var busyErr error
	var saved [][]float32
	cb := EpochEndFunc(func(tr *Training, e int, _ Logs) error {
		_, busyErr = tr.Model().EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent})
		if e == 0 {
			saved = tr.Weights()
			return tr.Save(filepath.Join(dir, "e0.safetensors"))
		}
		// Put back the first epoch's weights: Fit ends with them.
		return tr.SetWeights(saved)
	})
	if _, err := m.Fit(x, y, FitConfig{Epochs: 2, Verbose: VerboseSilent, Seed: 1, Callbacks: []Callback{cb}}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(busyErr, ErrConcurrentUse) {
		t.Errorf("Evaluate inside a callback: %v", busyErr)
	}
	l, err := Load(filepath.Join(dir, "e0.safetensors"))
	if err != nil || l.Iterations() != 4 {
		t.Fatalf("the callback's file: %v", err)
	}
	for i, w := range m.Weights() {
		if !sameBits(w, saved[i]) || !sameBits(w, l.Weights()[i]) {
			t.Fatalf("weights[%d] are not the first epoch's", i)
		}
	}
}

// TestVerbosityLiterals: Keras's spellings are the literals, an unknown
// one is an error, and the type is a string, so that an integer literal
// (whose meaning differed before) cannot compile.
func TestVerbosityLiterals(t *testing.T) {
	if reflect.TypeOf(VerboseBar).Kind() != reflect.String {
		t.Fatal("Verbosity is not a string type: Verbose: 1 would compile")
	}
	x, y := synth(64, 6, 3, 1)
	m := small(t, "relu", optim.Adam{})
	for _, c := range []struct {
		v    Verbosity
		want string // a substring of the output, "" for none
	}{{"0", ""}, {"1", "[====="}, {"2", "2/2 - "}, {"auto", "[====="}, {"", "[====="}} {
		var out bytes.Buffer
		if _, err := m.Fit(x, y, FitConfig{Verbose: c.v, Out: &out}); err != nil {
			t.Fatal(err)
		}
		if (c.want == "") != (out.Len() == 0) || !strings.Contains(out.String(), c.want) {
			t.Errorf("Verbose %q printed %q", c.v, out.String())
		}
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: "3"}); err == nil || !strings.Contains(err.Error(), `"3"`) {
		t.Errorf("Verbose \"3\": %v", err)
	}
	if _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: "bar"}); err == nil {
		t.Error("EvalConfig Verbose \"bar\": no error")
	}
}

// TestInputWidthErrors: a wrong sample width is named as Keras names it.
func TestInputWidthErrors(t *testing.T) {
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(10, "softmax"))
	if err := m.Compile(nil, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	half := make([]float32, 32*392)
	y := make([]int32, 32)
	out := make([]float32, 32*10)
	for name, err := range map[string]error{
		"Fit":            func() error { _, err := m.Fit(half, y, FitConfig{Verbose: VerboseSilent}); return err }(),
		"Predict":        m.Predict(half, out),
		"PredictClasses": m.PredictClasses(half, y),
	} {
		if err == nil || !strings.Contains(err.Error(), "expected 784 values per sample, got 392") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := m.PredictClasses(make([]float32, 2*784), y); err == nil || !strings.Contains(err.Error(), "there should be 2 entries in dst") {
		t.Errorf("PredictClasses with a dst for 32 samples of 2: %v", err)
	}
	if err := m.PredictClasses(make([]float32, 32*784), y[:31]); err == nil || !strings.Contains(err.Error(), "len(dst) = 31, need one entry for each of the 32 samples") {
		t.Errorf("PredictClasses with a dst for 31 of 32 samples: %v", err)
	}
	if _, err := m.Fit(make([]float32, 1000), y, FitConfig{Verbose: VerboseSilent}); err == nil ||
		!strings.Contains(err.Error(), "len(x) = 1000 is not a multiple of 784") {
		t.Errorf("ragged x: %v", err)
	}
	u := NewSequential("unc", Dense(3, "softmax", InputShape(4)))
	_, err := u.Fit(make([]float32, 8), []int32{0, 1}, FitConfig{Verbose: VerboseSilent})
	if !errors.Is(err, ErrNotCompiled) || !strings.Contains(err.Error(), `Fit: model "unc"`) {
		t.Errorf("uncompiled: %v", err)
	}
}
