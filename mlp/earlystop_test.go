package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// noisyData returns n samples of in features over classes classes in
// which feature j leans towards class j mod classes, with a fraction noise
// of the labels redrawn at random: a model learns the signal first and
// then memorises the noise, so that its validation loss falls, reaches a
// minimum and rises.
func noisyData(n, in, classes int, noise float64, seed uint64) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*in)
	y := make([]int32, n)
	for i := range n {
		c := r.IntN(classes)
		for j := range in {
			v := float32(r.NormFloat64())
			if j%classes == c {
				v++
			}
			x[i*in+j] = v
		}
		if r.Float64() < noise {
			c = r.IntN(classes)
		}
		y[i] = int32(c)
	}
	return x, y
}

// The overfitting run: a 16 → 64 → 4 classifier with a learning rate
// large for its 96 noisy samples. Its validation loss is lowest at epoch 4
// and grows after; every run with the same seeds is bit for bit the same.
const (
	overfitEpochs = 25
	overfitBatch  = 16
)

func overfitModel(t testing.TB) *Sequential {
	t.Helper()
	SetRandomSeed(3)
	m := NewSequential("", Flatten(InputShape(4, 4)), Dense(64, "relu"), Dense(4, "softmax"))
	if err := m.Compile(optim.Adam{LearningRate: 0.004}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

func overfitData() (x []float32, y []int32, val *Data) {
	x, y = noisyData(96, 16, 4, 0.2, 1)
	vx, vy := noisyData(96, 16, 4, 0.2, 2)
	return x, y, &Data{X: vx, Y: vy}
}

// overfitFit trains a fresh overfitModel with cbs after a callback that
// keeps the weights of the end of every epoch, which it returns.
func overfitFit(t testing.TB, validate bool, cbs ...Callback) (*Sequential, *History, [][][]float32, error) {
	t.Helper()
	m := overfitModel(t)
	x, y, val := overfitData()
	var snaps [][][]float32
	keep := EpochEndFunc(func(tr *Training, _ int, _ Logs) error {
		snaps = append(snaps, tr.Weights())
		return nil
	})
	cfg := FitConfig{Epochs: overfitEpochs, BatchSize: overfitBatch, Verbose: VerboseSilent, Seed: 9,
		Callbacks: append([]Callback{keep}, cbs...)}
	if validate {
		cfg.ValidationData = val
	}
	h, err := m.Fit(x, y, cfg)
	return m, h, snaps, err
}

// referenceHistory is the overfitting run's History without callbacks
// that stop it.
func referenceHistory(t testing.TB) *History {
	t.Helper()
	_, h, _, err := overfitFit(t, true)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// kerasStop replays Keras 2.14's EarlyStopping.on_epoch_end over one value
// per epoch and returns the epoch it stops after (0 for none) and the best
// epoch. It is written from Keras's source independently of EarlyStopping.
func kerasStop(vals []float64, max bool, minDelta float64, patience, start int, baseline *float64) (stopped, best int) {
	better := func(v, ref float64) bool {
		if max {
			return v-math.Abs(minDelta) > ref
		}
		return v+math.Abs(minDelta) < ref
	}
	bestV := math.Inf(1)
	if max {
		bestV = math.Inf(-1)
	}
	wait := 0
	for e, v := range vals {
		if e < start {
			continue
		}
		wait++
		if better(v, bestV) {
			bestV, best = v, e
			if baseline == nil || better(v, *baseline) {
				wait = 0
			}
			continue
		}
		if wait >= patience && e > 0 {
			return e, best
		}
	}
	return 0, best
}

func ptr(v float64) *float64 { return &v }

func weightsEqual(t *testing.T, what string, got, want [][]float32) {
	t.Helper()
	if !weightsBitsEqual(got, want) {
		t.Errorf("%s: the weights differ", what)
	}
}

func TestEarlyStoppingOverfit(t *testing.T) {
	ref := referenceHistory(t)
	vl := ref.History["val_loss"]
	minEpoch := 0
	for e, v := range vl {
		if v < vl[minEpoch] {
			minEpoch = e
		}
	}
	// The run must have the shape the cases rely on: a minimum well
	// inside it, and a rise after.
	if minEpoch < 2 || minEpoch > overfitEpochs-5 || vl[overfitEpochs-1] <= vl[minEpoch] {
		t.Fatalf("the run does not overfit as expected: val_loss %v", vl)
	}
	for i, c := range []struct {
		es      EarlyStopping
		monitor string
		max     bool
	}{
		{EarlyStopping{Patience: 2, RestoreBestWeights: true}, "val_loss", false},
		{EarlyStopping{Patience: 2}, "val_loss", false},
		{EarlyStopping{}, "val_loss", false}, // patience 0
		{EarlyStopping{Patience: 2, Baseline: ptr(vl[minEpoch] - 0.01), RestoreBestWeights: true}, "val_loss", false},
		{EarlyStopping{Patience: 2, Baseline: ptr(vl[minEpoch] + 0.001)}, "val_loss", false},
		{EarlyStopping{Patience: 1, StartFromEpoch: minEpoch + 2, RestoreBestWeights: true}, "val_loss", false},
		{EarlyStopping{Patience: 1, MinDelta: 0.02, RestoreBestWeights: true}, "val_loss", false},
		{EarlyStopping{Patience: 1, MinDelta: -0.02, RestoreBestWeights: true}, "val_loss", false},
		{EarlyStopping{Monitor: "val_accuracy", Mode: "max", Patience: 2, RestoreBestWeights: true}, "val_accuracy", true},
		{EarlyStopping{Monitor: "val_accuracy", Patience: 2}, "val_accuracy", true}, // auto: max
		{EarlyStopping{Monitor: "val_loss", Mode: "max", Patience: 1}, "val_loss", true},
		{EarlyStopping{Monitor: "loss", Patience: 0}, "loss", false},
	} {
		es := c.es
		name := fmt.Sprintf("case %d (%s, patience %d)", i, c.monitor, es.Patience)
		wantStop, wantBest := kerasStop(ref.History[c.monitor], c.max, es.MinDelta, es.Patience, es.StartFromEpoch, es.Baseline)
		m, h, snaps, err := overfitFit(t, true, &es)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: stops after epoch %d (0: runs to the end), best %d", name, wantStop, wantBest)
		if es.StoppedEpoch != wantStop || es.BestEpoch() != wantBest {
			t.Errorf("%s: stopped after epoch %d with best %d, Keras's rule says %d and %d (values %v)",
				name, es.StoppedEpoch, es.BestEpoch(), wantStop, wantBest, ref.History[c.monitor])
		}
		epochs := overfitEpochs
		if wantStop > 0 {
			epochs = wantStop + 1
		}
		if len(h.Epoch) != epochs || !slices.Equal(h.History["val_loss"], vl[:len(h.Epoch)]) {
			t.Errorf("%s: History has %d epochs, want %d of the reference run's", name, len(h.Epoch), epochs)
			continue
		}
		if es.Best() != ref.History[c.monitor][wantBest] {
			t.Errorf("%s: Best() = %v, want %v", name, es.Best(), ref.History[c.monitor][wantBest])
		}
		// Keras restores only when it stops; otherwise the model has
		// the last epoch's weights.
		wantW := snaps[len(snaps)-1]
		if es.RestoreBestWeights && wantStop > 0 {
			wantW = snaps[wantBest]
		}
		weightsEqual(t, name, m.Weights(), wantW)
	}
}

// TestEarlyStoppingRestoresBest: the restored model evaluates on the
// validation data to exactly the History's minimum val_loss, and the
// SaveBestOnly checkpoint of the same run loads compiled with the same
// weights. The verbose lines are Keras's.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	ref := referenceHistory(t)
	vl := ref.History["val_loss"]
	stop, best := kerasStop(vl, false, 0, 2, 0, nil)
	if stop == 0 || stop == best {
		t.Fatalf("the reference run should stop after its best epoch: stop %d, best %d", stop, best)
	}
	path := t.TempDir() + "/best-model.safetensors"
	es := &EarlyStopping{Patience: 2, RestoreBestWeights: true, Verbose: true}
	ck := &ModelCheckpoint{Path: path, SaveBestOnly: true, Verbose: true}
	var out strings.Builder
	m := overfitModel(t)
	x, y, val := overfitData()
	h, err := m.Fit(x, y, FitConfig{Epochs: overfitEpochs, BatchSize: overfitBatch, Verbose: VerboseSilent, Seed: 9,
		ValidationData: val, Out: &out, Callbacks: []Callback{es, ck}})
	if err != nil {
		t.Fatal(err)
	}
	minLoss := slices.Min(h.History["val_loss"])
	if minLoss != vl[best] {
		t.Fatalf("History's minimum %v is not the reference's best %v", minLoss, vl[best])
	}
	sc, err := m.EvaluateWith(val.X, val.Y, EvalConfig{BatchSize: overfitBatch, Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Loss != minLoss {
		t.Errorf("the restored model's val_loss is %v, want the History's minimum %v", sc.Loss, minLoss)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Optimizer() == nil {
		t.Error("the checkpoint loads uncompiled; Save keeps the compile state")
	}
	weightsEqual(t, "checkpoint", loaded.Weights(), m.Weights())
	if sc, err := loaded.EvaluateWith(val.X, val.Y, EvalConfig{BatchSize: overfitBatch, Verbose: VerboseSilent}); err != nil || sc.Loss != minLoss {
		t.Errorf("the checkpoint evaluates to %v, %v; want %v", sc.Loss, err, minLoss)
	}

	// Keras's lines: ModelCheckpoint's after an empty line at every
	// epoch, EarlyStopping's before it at the stopping epoch (it comes
	// first in the list), and the last at the end of training.
	var want strings.Builder
	prev := math.Inf(1)
	f5 := func(v float64) string {
		if math.IsInf(v, 1) {
			return "inf"
		}
		return strconv.FormatFloat(v, 'f', 5, 64)
	}
	for e := 0; e <= stop; e++ {
		if e == stop {
			fmt.Fprintf(&want, "Restoring model weights from the end of the best epoch: %d.\n", best+1)
		}
		if vl[e] < prev {
			fmt.Fprintf(&want, "\nEpoch %d: val_loss improved from %s to %s, saving model to %s\n", e+1, f5(prev), f5(vl[e]), path)
			prev = vl[e]
		} else {
			fmt.Fprintf(&want, "\nEpoch %d: val_loss did not improve from %s\n", e+1, f5(prev))
		}
	}
	fmt.Fprintf(&want, "Epoch %d: early stopping\n", stop+1)
	if out.String() != want.String() {
		t.Errorf("output:\n%q\nwant:\n%q", out.String(), want.String())
	}
}

// TestEarlyStoppingMissingMonitor: without validation there is no
// val_loss; EarlyStopping and a SaveBestOnly ModelCheckpoint warn once
// (Keras warns at every epoch) and do nothing else.
func TestEarlyStoppingMissingMonitor(t *testing.T) {
	var out strings.Builder
	dir := t.TempDir()
	es := &EarlyStopping{Patience: 0, Verbose: true}
	ck := &ModelCheckpoint{Path: dir + "/m.safetensors", SaveBestOnly: true, Verbose: true}
	m := overfitModel(t)
	x, y, _ := overfitData()
	h, err := m.Fit(x, y, FitConfig{Epochs: 4, Verbose: VerboseSilent, Out: &out, Callbacks: []Callback{es, ck}})
	if err != nil {
		t.Fatal(err)
	}
	want := "WARNING: Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: loss,accuracy\n" +
		"WARNING: Can save best model only with val_loss available, skipping.\n"
	if out.String() != want || len(h.Epoch) != 4 || es.StoppedEpoch != 0 {
		t.Errorf("output %q, %d epochs, stopped %d; want %q, 4 epochs, 0", out.String(), len(h.Epoch), es.StoppedEpoch, want)
	}
	onlyFiles(t, dir)
}

func TestEarlyStoppingBadMode(t *testing.T) {
	for _, cb := range []Callback{&EarlyStopping{Mode: "minimum"}, &ModelCheckpoint{Path: "x.safetensors", Mode: "minimum"}} {
		m := overfitModel(t)
		x, y, val := overfitData()
		h, err := m.Fit(x, y, FitConfig{Epochs: 2, Verbose: VerboseSilent, ValidationData: val, Callbacks: []Callback{cb}})
		if err == nil || !strings.Contains(err.Error(), `Mode "minimum"`) || len(h.Epoch) != 0 {
			t.Errorf("%T: %v after %d epochs, want an error naming the mode before training", cb, err, len(h.Epoch))
		}
	}
}

// TestEarlyStoppingReuse: a second Fit with the same EarlyStopping starts
// afresh, as Keras's on_train_begin resets it.
func TestEarlyStoppingReuse(t *testing.T) {
	es := &EarlyStopping{Patience: 1, RestoreBestWeights: true}
	var stops []int
	for range 2 {
		m, h, snaps, err := overfitFit(t, true, es)
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, es.StoppedEpoch, len(h.Epoch))
		weightsEqual(t, "reused", m.Weights(), snaps[es.BestEpoch()])
	}
	if stops[0] == 0 || stops[0] != stops[2] || stops[1] != stops[3] {
		t.Errorf("two identical runs stopped after epochs %d and %d, with %d and %d epochs", stops[0], stops[2], stops[1], stops[3])
	}
}
