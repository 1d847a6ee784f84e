package mlp

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// predictorModel is a built model with every activation in it.
func predictorModel(t testing.TB) *Sequential {
	t.Helper()
	SetRandomSeed(3)
	m := NewSequential("p", Flatten(InputShape(7, 9)), Dense(40, "relu"), Dense(33, "tanh"),
		Dense(17, "sigmoid"), Dense(12, "linear"), Dense(10, "softmax"))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPredictorMatchesPredict(t *testing.T) {
	for _, level := range kernels.Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := kernels.Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			m := predictorModel(t)
			p, err := m.Predictor()
			if err != nil {
				t.Fatal(err)
			}
			if p.InputSize() != 63 || p.OutputSize() != 10 {
				t.Fatalf("%s", p)
			}
			x, _ := synth(100, 63, 10, 9)
			for _, n := range []int{0, 1, 2, 31, 32, 33, 64, 100} {
				want := make([]float32, n*10)
				if err := m.Predict(x[:n*63], want); err != nil {
					t.Fatal(err)
				}
				got := make([]float32, n*10)
				if err := p.Predict(x[:n*63], n, got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("n = %d: Predictor.Predict differs from Sequential.Predict", n)
				}
			}
			for i := range 10 {
				want := make([]float32, 10)
				if err := m.Predict(x[i*63:(i+1)*63], want); err != nil {
					t.Fatal(err)
				}
				got := make([]float32, 10)
				if err := p.PredictOne(x[i*63:(i+1)*63], got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("sample %d: PredictOne %v, Predict %v", i, got, want)
				}
			}
		})
	}
}

// One sample predicted alone gives the bits of its row in a batch
// prediction, on every level: the kernels' single-row path sums in the
// batch path's order, so a served prediction matches an offline one.
func TestPredictOneMatchesBatchRow(t *testing.T) {
	for _, level := range kernels.Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := kernels.Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			SetRandomSeed(5)
			m := NewSequential("t", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax"))
			p, err := m.Predictor()
			if err != nil {
				t.Fatal(err)
			}
			const n = 45
			x, _ := synth(n, 784, 10, 11)
			batch := make([]float32, n*10)
			if err := m.Predict(x, batch); err != nil {
				t.Fatal(err)
			}
			one, pone := make([]float32, 10), make([]float32, 10)
			for i := range n {
				if err := m.Predict(x[i*784:(i+1)*784], one); err != nil {
					t.Fatal(err)
				}
				if err := p.PredictOne(x[i*784:(i+1)*784], pone); err != nil {
					t.Fatal(err)
				}
				if want := batch[i*10 : (i+1)*10]; !reflect.DeepEqual(one, want) || !reflect.DeepEqual(pone, want) {
					t.Fatalf("sample %d: Predict alone %v, PredictOne %v, row of the batch %v", i, one, pone, want)
				}
			}
		})
	}
}

// The snapshot does not follow the model: training it further changes
// the model's predictions, not the predictor's.
func TestPredictorIsSnapshot(t *testing.T) {
	m := predictorModel(t)
	p, err := m.Predictor()
	if err != nil {
		t.Fatal(err)
	}
	x, y := synth(64, 63, 10, 2)
	before := make([]float32, 640)
	if err := p.Predict(x, 64, before); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(optim.SGD{LearningRate: 0.5}, "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	after, model := make([]float32, 640), make([]float32, 640)
	if err := p.Predict(x, 64, after); err != nil {
		t.Fatal(err)
	}
	if err := m.Predict(x, model); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Error("the predictor changed when the model was trained")
	}
	if reflect.DeepEqual(model, before) {
		t.Error("training did not change the model's predictions; the test shows nothing")
	}
}

func TestPredictorErrors(t *testing.T) {
	if _, err := NewSequential("u", Dense(3, "softmax")).Predictor(); err == nil || !strings.Contains(err.Error(), "not yet been built") {
		t.Errorf("unbuilt: %v", err)
	}
	if _, err := NewSequential("f", Flatten(InputShape(3))).Predictor(); err == nil || !strings.Contains(err.Error(), "no Dense") {
		t.Errorf("no Dense: %v", err)
	}
	p, err := predictorModel(t).Predictor()
	if err != nil {
		t.Fatal(err)
	}
	x, out := make([]float32, 2*63), make([]float32, 2*10)
	for _, c := range []struct {
		err  error
		want string
	}{
		{p.PredictOne(x[:62], out[:10]), "len(x) = 62, need 63"},
		{p.PredictOne(x[:63], out[:9]), "len(out) = 9, need 10"},
		{p.Predict(x, 3, out), "len(x) = 126, need 189"},
		{p.Predict(x, -1, out), "negative"},
		{p.Predict(x, math.MaxInt/2, out), "len(x) = 126"},
		{p.Predict(x, 2, out[:19]), "len(out) = 19"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want %q", c.err, c.want)
		}
	}
	x[70] = float32(math.Inf(1))
	if err := p.Predict(x, 2, out); err == nil || !strings.Contains(err.Error(), "x[70] (sample 1, feature 7)") {
		t.Errorf("Inf input: %v", err)
	}
	if err := p.Predict(nil, 0, nil); err != nil {
		t.Errorf("n = 0: %v", err)
	}
}

// TestPredictorConcurrent runs 16 goroutines at once through one
// predictor, single samples and batches mixed; under -race it also shows
// that the calls share nothing they write.
func TestPredictorConcurrent(t *testing.T) {
	m := predictorModel(t)
	p, err := m.Predictor()
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	x, _ := synth(n, 63, 10, 4)
	want := make([]float32, n*10)
	if err := m.Predict(x, want); err != nil {
		t.Fatal(err)
	}
	one := make([][]float32, n)
	for i := range one {
		one[i] = make([]float32, 10)
		if err := m.Predict(x[i*63:(i+1)*63], one[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, n*10)
			for it := range 50 {
				if (g+it)%4 == 0 {
					if err := p.Predict(x, n, out); err != nil {
						errs <- err
						return
					}
					if !reflect.DeepEqual(out, want) {
						errs <- fmt.Errorf("goroutine %d: batch differs", g)
						return
					}
					continue
				}
				i := (g*7 + it) % n
				if err := p.PredictOne(x[i*63:(i+1)*63], out[:10]); err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(out[:10], one[i]) {
					errs <- fmt.Errorf("goroutine %d: sample %d differs", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if k := p.free.Len(); k < 1 || k > 16 {
		t.Errorf("free list holds %d buffers after 16 concurrent callers", k)
	}
}

func TestPredictorAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under -race")
	}
	p, err := predictorModel(t).Predictor()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := synth(100, 63, 10, 1)
	out := make([]float32, 1000)
	if err := p.Predict(x, 100, out); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(50, func() { p.PredictOne(x[:63], out[:10]) }); a != 0 { //nolint:errcheck
		t.Errorf("PredictOne allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { p.Predict(x, 100, out) }); a != 0 { //nolint:errcheck
		t.Errorf("Predict of 100 samples allocates %v times per call", a)
	}
}

// BenchmarkPredictorOne is the latency of one sample through the
// tutorial's model (784 → 100 relu → 10 softmax).
func BenchmarkPredictorOne(b *testing.B) {
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax"))
	p, err := m.Predictor()
	if err != nil {
		b.Fatal(err)
	}
	x, _ := benchData(1)
	out := make([]float32, 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.PredictOne(x, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictorBatch is 256 samples through the same model.
func BenchmarkPredictorBatch(b *testing.B) {
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax"))
	p, err := m.Predictor()
	if err != nil {
		b.Fatal(err)
	}
	x, _ := benchData(256)
	out := make([]float32, 2560)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Predict(x, 256, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/sample")
}

// BenchmarkPredictorOneParallel is PredictOne from GOMAXPROCS goroutines
// sharing one predictor: ns/op is the throughput per sample.
func BenchmarkPredictorOneParallel(b *testing.B) {
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax"))
	p, err := m.Predictor()
	if err != nil {
		b.Fatal(err)
	}
	x, _ := benchData(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]float32, 10)
		for pb.Next() {
			if err := p.PredictOne(x, out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
