package gomlxpeer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestMain prints, as '#' lines that benchstat ignores and
// bench/cmd/peertable reads, the GoMLX and compute versions this binary
// was built with, the backend and its vector code.
func TestMain(m *testing.M) {
	fmt.Printf("# gomlx-version: %s, compute %s\n", required("github.com/gomlx/gomlx"), required("github.com/gomlx/compute"))
	if b, err := Backend(""); err == nil {
		fmt.Printf("# gomlx-backend: %s (%s), %s, GOMAXPROCS=%d\n", b, b.Description(), SIMD(), runtime.GOMAXPROCS(0))
		b.Finalize()
	}
	os.Exit(m.Run())
}

// required is the version of a module that go.mod requires, which is the
// version built: go mod tidy lists the selected version of every module
// the package imports. (A test binary carries no module versions for
// runtime/debug to report; go test runs in the package's directory.)
func required(path string) string {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for line := range strings.Lines(string(mod)) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return "unknown (not in go.mod)"
}

// requireSIMD stops a benchmark of a build without GOEXPERIMENT=simd on
// amd64: its figures would be of the backend's portable loops, which no
// GoMLX user on this CPU should get.
func requireSIMD(b *testing.B) {
	if !SIMDBuild && runtime.GOARCH == "amd64" {
		b.Fatal("built without GOEXPERIMENT=simd: run GOEXPERIMENT=simd go test -bench . (make bench-peers does)")
	}
}

var benchData = sync.OnceValues(BenchData)

// forEachConfig runs bench as impl=<name> for each of Configs.
func forEachConfig(b *testing.B, bench func(b *testing.B, config string)) {
	for _, c := range Configs {
		b.Run("impl="+c.Impl, func(b *testing.B) { bench(b, c.Config) })
	}
}

// backend returns the backend in config, finalised when tb ends.
func backend(tb testing.TB, config string) compute.Backend {
	tb.Helper()
	b, err := Backend(config)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Finalize)
	return b
}

// BenchmarkEpoch is one training epoch through train.Loop.RunEpochs: 1500
// shuffled steps of 32 over 48000 samples, with the batch loss, its
// moving average and the epoch's accuracy, as BenchmarkEpoch/impl=gomlx-go and
// gomlx-go-sequential (bench/'s BenchmarkEpoch is the same work); ns/step is the time per
// step. Two steps before the timer compile the graphs (WarmUp), so the
// epochs timed run compiled code only, as ours run with every buffer
// already sized.
func BenchmarkEpoch(b *testing.B) {
	requireSIMD(b)
	x, y := benchData()
	forEachConfig(b, func(b *testing.B, config string) {
		tr, err := NewTrainer(backend(b, config), x, y, TrainSamples, BatchSize, 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.WarmUp(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := tr.Epoch(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(TrainSamples/BatchSize), "ns/step")
	})
}

// BenchmarkPredictOne is the latency of one sample's class probabilities,
// as BenchmarkPredictOne/impl=gomlx-go and gomlx-go-sequential: model.Exec.Call of the compiled
// graph on a [1, 28, 28] input tensor made once (as bench/'s benchmarks
// reuse their input and the ONNX Runtime peer its tensor), then the 10
// probabilities copied into a caller's slice and the output tensor freed.
// The first call, before the timer, compiles the graph.
func BenchmarkPredictOne(b *testing.B) {
	requireSIMD(b)
	x, y := benchData()
	forEachConfig(b, func(b *testing.B, config string) {
		p, _ := trainedPredictor(b, config, x, y, 320)
		in := tensors.FromFlatDataAndDimensions(x[:Pixels], 1, 28, 28)
		defer in.MustFinalizeAll()
		out := make([]float32, Classes)
		if err := p.Predict(in, out); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Predict(in, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// trainedPredictor trains WarmUp's two steps on the first n samples (which
// initialises the variables) and returns a Predictor of the model and the
// trainer.
func trainedPredictor(tb testing.TB, config string, x []float32, y []int32, n int) (*Predictor, *Trainer) {
	tb.Helper()
	be := backend(tb, config)
	tr, err := NewTrainer(be, x, y, n, BatchSize, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if err := tr.WarmUp(); err != nil {
		tb.Fatal(err)
	}
	p, err := NewPredictor(be, tr.Store)
	if err != nil {
		tb.Fatal(err)
	}
	return p, tr
}

// TestBenchData checks that BenchData is bench/'s benchData: the first
// values of each part, which bench/'s generator gives (PCG(7, 8), pixels
// then labels).
func TestBenchData(t *testing.T) {
	x, y := benchData()
	if len(x) != (TrainSamples+EvalSamples)*Pixels || len(y) != TrainSamples+EvalSamples {
		t.Fatalf("%d pixels and %d labels", len(x), len(y))
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 3 {
		if v := r.Float32(); x[i] != v {
			t.Errorf("x[%d] = %v, want %v", i, x[i], v)
		}
	}
	for _, v := range x {
		if v < 0 || v >= 1 {
			t.Fatalf("pixel %v outside [0, 1)", v)
		}
	}
	counts := make([]int, Classes)
	for _, v := range y {
		if v < 0 || v >= Classes {
			t.Fatalf("label %d", v)
		}
		counts[v]++
	}
	for c, n := range counts {
		if n < 5500 || n > 6500 { // 6000 expected, σ ≈ 73
			t.Errorf("class %d drawn %d times of 60000", c, n)
		}
	}
}

// TestPredictIsTheModel checks that the Predictor computes Flatten →
// Dense(100, relu) → Dense(10, softmax) with the trained variables of the
// store: it recomputes the probabilities in float64 from the weights and
// biases it reads back, on 64 samples, and wants exactly those four
// trainable variables of those shapes.
func TestPredictIsTheModel(t *testing.T) {
	for _, c := range Configs {
		t.Run(c.Impl, func(t *testing.T) { testPredictIsTheModel(t, c.Config) })
	}
}

func testPredictIsTheModel(t *testing.T, config string) {
	x, y := benchData()
	p, tr := trainedPredictor(t, config, x, y, 320)
	params := map[string][]float32{}
	want := map[string][]int{
		"/hidden/dense/weights": {Pixels, Hidden}, "/hidden/dense/biases": {Hidden},
		"/output/dense/weights": {Hidden, Classes}, "/output/dense/biases": {Classes},
	}
	for v := range tr.Store.IterVariables() {
		dims, ok := want[v.Path()]
		if !ok {
			if v.Trainable {
				t.Errorf("unexpected trainable variable %s %s", v.Path(), v.Shape())
			}
			continue
		}
		if got := v.Shape().Dimensions; fmt.Sprint(got) != fmt.Sprint(dims) {
			t.Fatalf("%s has shape %v, want %v", v.Path(), got, dims)
		}
		vals, err := tensors.CopyFlatData[float32](v.MustValue())
		if err != nil {
			t.Fatal(err)
		}
		params[v.Path()] = vals
	}
	if len(params) != len(want) {
		t.Fatalf("found %d of the model's %d variables", len(params), len(want))
	}
	const n = 64
	in := tensors.FromFlatDataAndDimensions(x[:n*Pixels], n, 28, 28)
	defer in.MustFinalizeAll()
	got := make([]float32, n*Classes)
	if err := p.Predict(in, got); err != nil {
		t.Fatal(err)
	}
	w1, b1 := params["/hidden/dense/weights"], params["/hidden/dense/biases"]
	w2, b2 := params["/output/dense/weights"], params["/output/dense/biases"]
	for s := range n {
		img := x[s*Pixels : (s+1)*Pixels]
		h := make([]float64, Hidden)
		for j := range Hidden {
			acc := float64(b1[j])
			for i, v := range img {
				acc += float64(v) * float64(w1[i*Hidden+j])
			}
			h[j] = math.Max(acc, 0)
		}
		logits := make([]float64, Classes)
		maxLogit := math.Inf(-1)
		for k := range Classes {
			acc := float64(b2[k])
			for j, v := range h {
				acc += v * float64(w2[j*Classes+k])
			}
			logits[k] = acc
			maxLogit = math.Max(maxLogit, acc)
		}
		var sum float64
		for k := range logits {
			logits[k] = math.Exp(logits[k] - maxLogit)
			sum += logits[k]
		}
		for k := range Classes {
			if w, g := logits[k]/sum, float64(got[s*Classes+k]); math.Abs(w-g) > 1e-5 {
				t.Fatalf("sample %d class %d: %v, want %v", s, k, g, w)
			}
		}
	}
}

// TestTrains checks that the trainer learns: on labels that a fixed
// linear map of the pixels decides (the arg-max of ten random
// projections), three epochs of 4800 samples take the held-out accuracy
// from chance (0.1) to above 0.4 (about 0.55 when written), and the
// epoch's reported accuracy rises. A predictor that missed the trained
// weights, or a trainer that did not train, stays near 0.1.
func TestTrains(t *testing.T) {
	for _, c := range Configs {
		t.Run(c.Impl, func(t *testing.T) { testTrains(t, c.Config) })
	}
}

func testTrains(t *testing.T, config string) {
	const n, held = 4800, 1000
	x, _ := benchData()
	x = x[:(n+held)*Pixels]
	r := rand.New(rand.NewPCG(1, 2))
	proj := make([]float32, Pixels*Classes)
	for i := range proj {
		proj[i] = r.Float32()*2 - 1
	}
	y := make([]int32, n+held)
	for s := range y {
		best := math.Inf(-1)
		for k := range Classes {
			var acc float64
			for i := range Pixels {
				acc += float64(x[s*Pixels+i]) * float64(proj[i*Classes+k])
			}
			if acc > best {
				best, y[s] = acc, int32(k)
			}
		}
	}
	be := backend(t, config)
	tr, err := NewTrainer(be, x, y, n, BatchSize, 1)
	if err != nil {
		t.Fatal(err)
	}
	var accs []float64
	for range 3 {
		_, _, acc, err := tr.Epoch()
		if err != nil {
			t.Fatal(err)
		}
		accs = append(accs, acc)
	}
	if !(accs[2] > accs[0]) {
		t.Errorf("epoch accuracies %v do not rise", accs)
	}
	p, err := NewPredictor(be, tr.Store)
	if err != nil {
		t.Fatal(err)
	}
	in := tensors.FromFlatDataAndDimensions(x[n*Pixels:], held, 28, 28)
	defer in.MustFinalizeAll()
	probs := make([]float32, held*Classes)
	if err := p.Predict(in, probs); err != nil {
		t.Fatal(err)
	}
	right := 0
	for s := range held {
		row := probs[s*Classes : (s+1)*Classes]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if int32(best) == y[n+s] {
			right++
		}
	}
	acc := float64(right) / held
	t.Logf("epoch accuracies %.3f, held-out accuracy %.3f", accs, acc)
	if acc < 0.4 {
		t.Errorf("held-out accuracy %.3f after 3 epochs, want above 0.4", acc)
	}
}

// TestNewTrainerShortData checks the error for more samples than data.
func TestNewTrainerShortData(t *testing.T) {
	_, err := NewTrainer(backend(t, ""), make([]float32, 10*Pixels), make([]int32, 10), 11, BatchSize, 1)
	if err == nil || !strings.Contains(err.Error(), "11 samples asked for") {
		t.Errorf("error %v, want one naming the 11 samples asked for", err)
	}
}
