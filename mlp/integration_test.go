package mlp

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// loadTutorialData returns the tutorial's 80/20 split of Fashion-MNIST's
// training set (train_test_split with random_state=42), scaled to [0, 1].
// It skips the test only when the data is absent and -short is set.
func loadTutorialData(t testing.TB) (xt []float32, yt []int32, xv []float32, yv []int32) {
	t.Helper()
	train, _, err := mnist.LoadFashionWith(mnist.Options{Dir: os.Getenv("SIMDMLP_TEST_DATA"), NoDownload: true})
	if err != nil {
		if errors.Is(err, mnist.ErrNotFound) && testing.Short() {
			t.Skipf("Fashion-MNIST not installed: %v", err)
		}
		t.Fatalf("loading Fashion-MNIST: %v", err)
	}
	const width = 28 * 28
	x := train.Scaled()
	tr, te := mnist.TrainTestSplit(train.N, 0.2, 42)
	xt = make([]float32, len(tr)*width)
	yt = make([]int32, len(tr))
	xv = make([]float32, len(te)*width)
	yv = make([]int32, len(te))
	for _, e := range []error{
		mnist.GatherRows(xt, x, width, tr), mnist.GatherRows(yt, train.Labels, 1, tr),
		mnist.GatherRows(xv, x, width, te), mnist.GatherRows(yv, train.Labels, 1, te),
	} {
		if e != nil {
			t.Fatal(e)
		}
	}
	return xt, yt, xv, yv
}

// TestTutorialOneEpoch trains the tutorial's final model (Flatten → Dense
// 100 relu → Dense 10 softmax, Adam) for one epoch on the real data and
// checks it learns what Keras's does (Keras reaches about 0.85 after one
// epoch).
func TestTutorialOneEpoch(t *testing.T) {
	xt, yt, xv, yv := loadTutorialData(t)
	SetRandomSeed(42)
	m := NewSequential("")
	mustAdd(t, m, Flatten(InputShape(28, 28)))
	mustAdd(t, m, Dense(100, "relu"))
	mustAdd(t, m, Dense(10, "softmax"))
	if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	hist, err := m.Fit(xt, yt, FitConfig{Epochs: 1, Verbose: VerboseSilent, Seed: 42,
		ValidationData: &Data{X: xv, Y: yv}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("history %v", hist.History)
	if acc := hist.History["val_accuracy"][0]; acc < 0.82 {
		t.Errorf("val_accuracy after one epoch = %.4f, want ≥ 0.82", acc)
	}
	sc, err := m.EvaluateWith(xv, yv, EvalConfig{Verbose: VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	if sc != (Scores{hist.History["val_loss"][0], hist.History["val_accuracy"][0]}) {
		t.Errorf("Evaluate %+v differs from the epoch's validation %v", sc, hist.History)
	}
}

// TestOneEpochEveryLevel trains the tutorial's final model for one epoch
// on the real data on every kernel level the machine has, from the same
// initial weights and shuffles, and checks each level's validation
// accuracy against the pure-Go reference level's: the assembly rounds
// differently (FMA, other summation orders), so the weights drift apart,
// but what the model learns must not (within half a point).
func TestOneEpochEveryLevel(t *testing.T) {
	xt, yt, xv, yv := loadTutorialData(t)
	acc := map[string]float64{}
	for _, level := range kernels.Available() {
		restore, err := kernels.Use(level)
		if err != nil {
			t.Fatal(err)
		}
		SetRandomSeed(42)
		m := NewSequential("")
		mustAdd(t, m, Flatten(InputShape(28, 28)))
		mustAdd(t, m, Dense(100, "relu"))
		mustAdd(t, m, Dense(10, "softmax"))
		if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
			t.Fatal(err)
		}
		hist, err := m.Fit(xt, yt, FitConfig{Epochs: 1, Verbose: VerboseSilent, Seed: 42,
			ValidationData: &Data{X: xv, Y: yv}})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		acc[level] = hist.History["val_accuracy"][0]
		t.Logf("%s: val_loss %.4f val_accuracy %.4f", level, hist.History["val_loss"][0], acc[level])
	}
	ref, ok := acc["generic"]
	if !ok {
		t.Fatalf("no generic level among %v", kernels.Available())
	}
	for level, a := range acc {
		if math.Abs(a-ref) > 0.005 {
			t.Errorf("%s: val_accuracy %.4f, generic %.4f: more than 0.5 points apart", level, a, ref)
		}
	}
}
