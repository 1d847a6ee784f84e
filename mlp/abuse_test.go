package mlp

// Regression tests for what a careless or hostile caller can ask of a
// model: counts that cannot be honoured, sizes beyond the machine, files
// that lie, concurrent calls.

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/internal/heap"
	"github.com/simdmlp/simdmlp/optim"
)

// stopFit is the panic a test's progress writer throws to end a Fit that
// would otherwise run for years.
type stopFit struct{ allocated uint64 }

// A huge epoch count is honoured as Keras honours it, one epoch after the
// other: nothing is allocated or drawn in proportion to it before the
// epochs run.
func TestFitHugeEpochs(t *testing.T) {
	x, y := synth(40, 6, 3, 1)
	m := small(t, "relu", optim.Adam{})
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err) // warm up the buffers
	}

	// Setup for 2⁴⁰ epochs, measured when the first epoch starts.
	var start runtime.MemStats
	out := writerFunc(func(p []byte) (int, error) {
		var now runtime.MemStats
		runtime.ReadMemStats(&now)
		panic(stopFit{now.TotalAlloc - start.TotalAlloc})
	})
	got := func() (s stopFit) {
		defer func() { s = recover().(stopFit) }()
		runtime.ReadMemStats(&start)
		m.Fit(x, y, FitConfig{Epochs: 1 << 40, Verbose: VerboseEpoch, Out: out, Seed: 1}) //nolint:errcheck // stopped by panic
		return stopFit{}
	}()
	if got.allocated > 64<<10 {
		t.Errorf("Fit of 2⁴⁰ epochs allocated %d bytes before its first epoch", got.allocated)
	}
	// The panic released the model.
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatalf("after a stopped Fit: %v", err)
	}

	// The last of 2⁴⁰ epochs runs at once: skipped epochs cost nothing.
	it := m.Iterations()
	h, err := m.Fit(x, y, FitConfig{Epochs: 1 << 40, InitialEpoch: 1<<40 - 1, Verbose: VerboseSilent, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epoch) != 1 || h.Epoch[0] != 1<<40-1 || m.Iterations() != it+2 {
		t.Errorf("epochs %v, %d steps; want the one epoch 2⁴⁰−1 of 2 steps", h.Epoch, m.Iterations()-it)
	}

	// Counts whose steps pass optim.MaxIterations are refused before
	// anything changes.
	before := m.Weights()
	for _, epochs := range []int{math.MaxInt, int(optim.MaxIterations)} {
		_, err := m.Fit(x, y, FitConfig{Epochs: epochs, Verbose: VerboseSilent})
		if err == nil || !strings.Contains(err.Error(), "MaxIterations") {
			t.Errorf("Epochs %d: error %v, want one naming MaxIterations", epochs, err)
		}
	}
	if !weightsBitsEqual(before, m.Weights()) {
		t.Error("a refused Fit changed the weights")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A batch larger than the data is one batch of all of it, in Fit and in
// Evaluate, however large the number.
func TestHugeBatchIsAllData(t *testing.T) {
	x, y := synth(50, 6, 3, 2)
	for _, bs := range []int{51, 1 << 40, math.MaxInt} {
		SetRandomSeed(5)
		a := small(t, "relu", optim.SGD{})
		SetRandomSeed(5)
		b := small(t, "relu", optim.SGD{})
		h, err := a.Fit(x, y, FitConfig{BatchSize: bs, Epochs: 2, NoShuffle: true, Verbose: VerboseSilent})
		if err != nil {
			t.Fatalf("BatchSize %d: %v", bs, err)
		}
		if a.Iterations() != 2 {
			t.Errorf("BatchSize %d: %d steps in 2 epochs, want 2", bs, a.Iterations())
		}
		var loss []float64
		for range 2 {
			l, _, err := b.TrainOnBatch(x, y)
			if err != nil {
				t.Fatal(err)
			}
			loss = append(loss, l)
		}
		if !weightsBitsEqual(a.Weights(), b.Weights()) || h.History["loss"][1] != loss[1] {
			t.Errorf("BatchSize %d: Fit differs from TrainOnBatch on all the data (loss %v vs %v)", bs, h.History["loss"], loss)
		}
		sc, err := a.EvaluateWith(x, y, EvalConfig{BatchSize: bs, Verbose: VerboseSilent})
		want, _ := a.EvaluateWith(x, y, EvalConfig{BatchSize: len(y), Verbose: VerboseSilent})
		if err != nil || sc != want {
			t.Errorf("Evaluate BatchSize %d: %v, %v; want %v", bs, sc, err, want)
		}
		vh, err := a.Fit(x, y, FitConfig{BatchSize: bs, ValidationSplit: 0.2, ValidationBatchSize: bs, Verbose: VerboseSilent})
		if err != nil || len(vh.History["val_loss"]) != 1 {
			t.Errorf("BatchSize %d with validation: %v %v", bs, vh, err)
		}
	}
}

// The iteration count in a model file is bounded by what the optimizer
// can count, and a Fit that would pass it is refused before it starts.
func TestIterationsFromFile(t *testing.T) {
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
	withIterations := func(n int64) []byte {
		h, d := split(t, good)
		md := h["__metadata__"].(map[string]any)
		tc := md["training_config"].(string)
		const was = `"iterations":2`
		if !strings.Contains(tc, was) {
			t.Fatalf("training_config %s has no %s", tc, was)
		}
		md["training_config"] = strings.Replace(tc, was, `"iterations":`+strconv.FormatInt(n, 10), 1)
		return assemble(t, h, d)
	}
	for _, n := range []int64{math.MaxInt64, math.MaxInt64 - 1, optim.MaxIterations + 1} {
		_, err := load("f", bytes.NewReader(withIterations(n)), int64(len(withIterations(n))))
		if err == nil || !strings.Contains(err.Error(), "MaxIterations") {
			t.Errorf("iterations %d: Load error %v, want one naming MaxIterations", n, err)
		}
	}
	// At the bound the file loads, and training one step further is an
	// error, not a wrap to a negative count that turns weights to NaN.
	b := withIterations(optim.MaxIterations)
	l, err := load("f", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	before := l.Weights()
	if _, err := l.Fit(x, y, FitConfig{Verbose: VerboseSilent}); err == nil || !strings.Contains(err.Error(), "MaxIterations") {
		t.Errorf("Fit past MaxIterations: %v", err)
	}
	if _, _, err := l.TrainOnBatch(x, y); err == nil || !strings.Contains(err.Error(), "MaxIterations") {
		t.Errorf("TrainOnBatch past MaxIterations: %v", err)
	}
	if !weightsBitsEqual(before, l.Weights()) || l.Iterations() != optim.MaxIterations {
		t.Errorf("refused steps changed the model (iterations %d)", l.Iterations())
	}
}

// Save writes only what Load accepts: a model whose training diverged is
// an error naming the tensor, and the good file it would replace stays.
func TestSaveRefusesNonFinite(t *testing.T) {
	x, y := synth(64, 30, 10, 6)
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	m := resumeModel(t, optim.SGD{LearningRate: 1e20})
	if err := m.SaveWith(p, SaveOptions{IncludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	good := mustRead(t, p)
	if _, err := m.Fit(x, y, FitConfig{Epochs: 3, Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []SaveOptions{{}, {IncludeOptimizer: true}} {
		err := m.SaveWith(p, opts)
		if err == nil || !strings.Contains(err.Error(), `tensor "`) || !strings.Contains(err.Error(), "diverge") {
			t.Errorf("Save of a diverged model: %v, want an error naming the tensor", err)
		}
		if !bytes.Equal(mustRead(t, p), good) {
			t.Fatal("a refused Save changed the file")
		}
		onlyFiles(t, dir, "m.safetensors")
	}
	if _, err := Load(p); err != nil {
		t.Errorf("the old file no longer loads: %v", err)
	}

	// Only an optimizer slot non-finite: SetState refuses it on Load.
	m = resumeModel(t, optim.Adagrad{})
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	m.updater.(optim.Resumable).State().Slots[0].Values[1][0] = float32(math.Inf(1))
	if err := m.SaveWith(p, SaveOptions{IncludeOptimizer: true}); err == nil || !strings.Contains(err.Error(), "optimizer/") {
		t.Errorf("Save with an infinite slot: %v", err)
	}
}

// A Save killed on the way leaves a temporary file; the next Save of the
// same path removes it.
func TestSaveRemovesDeadTemporaries(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	dead := filepath.Join(dir, atomicfile.TempPrefix(p)+"4242")
	if err := os.WriteFile(dead, []byte("half a model"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := savedModel(t).Save(p); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, dir, "m.safetensors")
}

// The whole model's size is checked before any weight is allocated.
func TestModelTooLarge(t *testing.T) {
	var m *Sequential
	alloc := heap.Allocated(func() {
		m = NewSequential("", Flatten(InputShape(28, 28)), Dense(1000000, "relu"), Dense(1000000, "relu"), Dense(10, "softmax"))
	})
	if m.Err() == nil || !strings.Contains(m.Err().Error(), "too large") {
		t.Errorf("two layers of a million units: %v", m.Err())
	}
	if alloc > 1<<20 {
		t.Errorf("the refused model allocated %d bytes first", alloc)
	}

	// Against the machine's memory (lowered here to 64 MiB).
	defer func(old uint64) { physicalMemory = old }(physicalMemory)
	physicalMemory = 64 << 20
	alloc = heap.Allocated(func() {
		m = NewSequential("", Flatten(InputShape(28, 28)), Dense(10000, "relu"), Dense(10000, "relu"), Dense(10, "softmax"))
	})
	if m.Err() == nil || !strings.Contains(m.Err().Error(), "more than the 64.0 MiB this machine has") {
		t.Errorf("a 108-million-weight model on a 64 MiB machine: %v", m.Err())
	}
	if alloc > 1<<20 {
		t.Errorf("the refused model allocated %d bytes first", alloc)
	}
	// Build and Add check the same way.
	u := NewSequential("", Flatten(), Dense(10000, "relu"), Dense(10000, "relu"))
	if err := u.Build(28, 28); err == nil || !strings.Contains(err.Error(), "this machine has") {
		t.Errorf("Build: %v", err)
	}
	b := NewSequential("", Dense(2000, "relu", InputShape(784)))
	if err := b.Add(Dense(10000, "relu")); err == nil || !strings.Contains(err.Error(), "this machine has") {
		t.Errorf("Add: %v", err)
	}
	if len(b.Layers()) != 1 {
		t.Errorf("a refused Add changed the model: %v", b)
	}

	// The model fits, its optimizer does not: Compile says so.
	// 4.77 million weights: 19 MiB, 38 MiB with gradients, 76 MiB with
	// Adam's two slots.
	c := NewSequential("", Dense(6000, "relu", InputShape(784)), Dense(10, "softmax"))
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Compile(optim.Adam{}, "sparse_categorical_crossentropy"); err == nil || !strings.Contains(err.Error(), "2 optimizer values per weight") {
		t.Errorf("Compile with Adam: %v", err)
	}
	if err := c.Compile(optim.SGD{}, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	// Compiled before it is built, the same model is refused by Build
	// before any weight is allocated.
	u = NewSequential("", Flatten(), Dense(6000, "relu"), Dense(10, "softmax"))
	if err := u.Compile(optim.Adam{}, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	var berr error
	alloc = heap.Allocated(func() { berr = u.Build(28, 28) })
	if berr == nil || !strings.Contains(berr.Error(), "2 optimizer values per weight") || u.Built() {
		t.Errorf("Build of a compiled model too large to train: %v", berr)
	}
	if alloc > 1<<20 {
		t.Errorf("the refused Build allocated %d bytes first", alloc)
	}
	// The batch buffers do not fit: Fit and Evaluate say so.
	x, y := make([]float32, 2000*784), make([]int32, 2000)
	if _, err := c.Fit(x, y, FitConfig{BatchSize: 2000, Verbose: VerboseSilent}); err == nil || !strings.Contains(err.Error(), "batches of 2000") {
		t.Errorf("Fit: %v", err)
	}
	if _, err := c.EvaluateWith(x, y, EvalConfig{BatchSize: 2000, Verbose: VerboseSilent}); err == nil || !strings.Contains(err.Error(), "batches of 2000") {
		t.Errorf("Evaluate: %v", err)
	}
	if _, err := c.Fit(x[:32*784], y[:32], FitConfig{Verbose: VerboseSilent}); err != nil {
		t.Errorf("a batch that fits: %v", err)
	}
}

// Calls on one model that overlap in time are refused, not raced.
func TestConcurrentUseRefused(t *testing.T) {
	x, y := synth(64, 6, 3, 3)
	m := small(t, "relu", optim.Adam{})
	inFit := make(chan struct{})
	done := make(chan struct{})
	var once sync.Once
	out := writerFunc(func(p []byte) (int, error) {
		once.Do(func() { close(inFit); <-done })
		return len(p), nil
	})
	var wg sync.WaitGroup
	var fitErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, fitErr = m.Fit(x, y, FitConfig{Epochs: 2, Verbose: VerboseEpoch, Out: out})
	}()
	<-inFit
	p := filepath.Join(t.TempDir(), "m.safetensors")
	calls := map[string]func() error{
		"Fit":          func() error { _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent}); return err },
		"TrainOnBatch": func() error { _, _, err := m.TrainOnBatch(x, y); return err },
		"Evaluate":     func() error { _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}); return err },
		"Predict":      func() error { return m.Predict(x, make([]float32, 64*3)) },
		"Predictor":    func() error { _, err := m.Predictor(); return err },
		"Save":         func() error { return m.Save(p) },
		"SetWeights":   func() error { return m.SetWeights(m.Weights()) },
		"Compile":      func() error { return m.Compile(nil, "sparse_categorical_crossentropy") },
		"Add":          func() error { return m.Add(Dense(3, "softmax")) },
		"Build":        func() error { return m.Build(6) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrConcurrentUse) {
			t.Errorf("%s during Fit: %v, want ErrConcurrentUse", name, err)
		}
	}
	close(done)
	wg.Wait()
	if fitErr != nil {
		t.Fatal(fitErr)
	}
	// One after the other, from any goroutine, is fine.
	for name, call := range calls {
		if name == "Add" {
			continue // would make the model another one
		}
		if err := call(); err != nil {
			t.Errorf("%s after Fit: %v", name, err)
		}
	}
}
