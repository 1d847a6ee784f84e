package mlp

import (
	"io"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/optim"
)

func tutorialModel(t testing.TB, opt optim.Optimizer) *Sequential {
	t.Helper()
	m := NewSequential("")
	for _, l := range []*Layer{Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax")} {
		if err := m.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Compile(opt, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrainOnBatchAllocs(t *testing.T) {
	x, y := synth(32, 784, 10, 1)
	for _, opt := range registeredOptimizers(t, optim.SGD{Momentum: 0.9, Nesterov: true}) {
		m := tutorialModel(t, opt)
		if _, _, err := m.TrainOnBatch(x, y); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() {
			if _, _, err := m.TrainOnBatch(x, y); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: TrainOnBatch allocates %v times per call", opt.Name(), a)
		}
		// A smaller (partial) batch reuses the buffers.
		if a := testing.AllocsPerRun(20, func() {
			if _, _, err := m.TrainOnBatch(x[:7*784], y[:7]); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: TrainOnBatch on a partial batch allocates %v times", opt.Name(), a)
		}
	}
}

func TestPredictAndEvaluateAllocs(t *testing.T) {
	x, y := synth(100, 784, 10, 2)
	m := tutorialModel(t, nil)
	out := make([]float32, 100*10)
	if err := m.Predict(x, out); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { _ = m.Predict(x, out) }); a != 0 {
		t.Errorf("Predict allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { _ = m.Predict(x[:784], out[:10]) }); a != 0 {
		t.Errorf("one-sample Predict allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { _, _ = m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}) }); a != 0 {
		t.Errorf("Evaluate allocates %v times per call", a)
	}
}

// TestFitAllocsDoNotGrowWithSteps: an epoch of 2 steps and one of 200
// allocate the same, with validation and with the progress bar drawn at
// every step.
func TestFitAllocsDoNotGrowWithSteps(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	x, y := synth(6400, 6, 3, 3)
	m := small(t, "relu", optim.Adam{})
	fit := func(n int, verbose Verbosity) float64 {
		cfg := FitConfig{Epochs: 2, Verbose: verbose, Out: io.Discard, Now: fakeClock(time.Second), Seed: 1,
			ValidationData: &Data{X: x[:64*6], Y: y[:64]}}
		if _, err := m.Fit(x[:n*6], y[:n], cfg); err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(3, func() {
			if _, err := m.Fit(x[:n*6], y[:n], cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, v := range []Verbosity{VerboseSilent, VerboseBar, VerboseEpoch} {
		few, many := fit(64, v), fit(6400, v)
		if few != many {
			t.Errorf("verbose=%v: Fit allocates %v times for 2 steps per epoch, %v for 200", v, few, many)
		}
		t.Logf("verbose=%v: %v allocations per 2-epoch Fit", v, few)
	}
}
