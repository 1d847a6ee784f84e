package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/bench/internal/tutorial"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// The end-to-end figures: the tutorial's final model (Flatten(28×28) →
// Dense(100, relu) → Dense(10, softmax), sparse categorical cross-entropy,
// Adam with Keras's defaults, batches of 32) driven through mlp's public
// API only, on every kernel level. The same model runs in PyTorch and
// numpy in peers/, on the same sizes.
const (
	trainSamples = 48000 // the tutorial's training split: 1500 steps of 32
	evalSamples  = 12000 // its validation split
	pixels       = 28 * 28
	classes      = 10
)

// benchData is random data of Fashion-MNIST's shape: pixels uniform in
// [0, 1), labels uniform over the classes. A step's time does not depend
// on the values, so real images would only add a dependency. It is made
// once per process: 48000 images are 150 MB.
var benchData = sync.OnceValues(func() ([]float32, []int32) {
	n := trainSamples + evalSamples
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, n*pixels)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(classes))
	}
	return x, y
})

// tutorialModel builds and compiles the tutorial's model with fixed
// initial weights (package tutorial, which the ONNX Runtime peer shares).
func tutorialModel(tb testing.TB) *mlp.Sequential {
	tb.Helper()
	m, err := tutorial.Model()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// forEachLevel runs bench as impl=<level> for every kernel level this
// CPU runs, with that level active.
func forEachLevel(b *testing.B, bench func(b *testing.B)) {
	for _, level := range kernels.Available() {
		b.Run("impl="+level, func(b *testing.B) {
			restore, err := kernels.Use(level)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			bench(b)
		})
	}
}

// BenchmarkEpoch is one training epoch, Fit on 48000 samples (1500
// shuffled steps of 32, with the loss and accuracy Keras tracks), as
// BenchmarkEpoch/impl=<level>; ns/step is the time per step, and
// peak-fraction the epoch's GEMM flops per second over the level's FMA
// peak on the kernels' thread count (see reportPeakFraction).
func BenchmarkEpoch(b *testing.B) {
	x, y := benchData()
	x, y = x[:trainSamples*pixels], y[:trainSamples]
	forEachLevel(b, func(b *testing.B) {
		m := tutorialModel(b)
		cfg := mlp.FitConfig{Verbose: mlp.VerboseSilent, Seed: 1}
		// Warm-up: builds the model and sizes every buffer.
		if _, err := m.Fit(x[:320*pixels], y[:320], cfg); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Fit(x, y, cfg); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(trainSamples/32), "ns/step")
		reportPeakFraction(b, trainFLOPs(denseShapes(m), trainSamples))
	})
}

// BenchmarkEvaluate is Evaluate (loss and accuracy) on 12000 samples in
// batches of 32, Keras's default, as BenchmarkEvaluate/impl=<level>.
func BenchmarkEvaluate(b *testing.B) {
	x, y := benchData()
	x, y = x[trainSamples*pixels:], y[trainSamples:]
	forEachLevel(b, func(b *testing.B) {
		m := tutorialModel(b)
		if _, err := m.EvaluateWith(x, y, mlp.EvalConfig{Verbose: mlp.VerboseSilent}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.EvaluateWith(x, y, mlp.EvalConfig{Verbose: mlp.VerboseSilent}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPredictOne is the latency of predicting one sample into a
// caller's buffer, the serving case, as BenchmarkPredictOne/impl=<level>.
func BenchmarkPredictOne(b *testing.B) {
	x, _ := benchData()
	x = x[:pixels]
	forEachLevel(b, func(b *testing.B) {
		m := tutorialModel(b)
		out := make([]float32, classes)
		if err := m.Predict(x, out); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Predict(x, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPredictorOne is the same latency through an immutable
// Predictor, the embeddable inference core, as
// BenchmarkPredictorOne/impl=<level>.
func BenchmarkPredictorOne(b *testing.B) {
	x, _ := benchData()
	x = x[:pixels]
	forEachLevel(b, func(b *testing.B) {
		p, err := tutorialModel(b).Predictor()
		if err != nil {
			b.Fatal(err)
		}
		out := make([]float32, classes)
		if err := p.PredictOne(x, out); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := p.PredictOne(x, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEpochThreads is BenchmarkEpoch at batch 32 and 256 on one and
// two threads, as BenchmarkEpochThreads/impl=<level>/batch=<b>/threads=<n>:
// Fit on 48000 samples (1500 or 188 steps), ns/step the time per step,
// peak-fraction the share of the FMA peak of as many cores as threads.
// The threads=2 figures need GOMAXPROCS ≥ 2 and are skipped otherwise.
func BenchmarkEpochThreads(b *testing.B) {
	x, y := benchData()
	x, y = x[:trainSamples*pixels], y[:trainSamples]
	forEachLevel(b, func(b *testing.B) {
		for _, bs := range []int{32, 256} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("batch=%d/threads=%d", bs, threads), func(b *testing.B) {
					if runtime.GOMAXPROCS(0) < threads {
						b.Skipf("GOMAXPROCS=%d < %d threads", runtime.GOMAXPROCS(0), threads)
					}
					defer kernels.SetThreads(kernels.SetThreads(threads))
					m := tutorialModel(b)
					cfg := mlp.FitConfig{Verbose: mlp.VerboseSilent, Seed: 1, BatchSize: bs}
					// Warm-up: builds the model and sizes every buffer.
					if _, err := m.Fit(x[:2*bs*pixels], y[:2*bs], cfg); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := m.Fit(x, y, cfg); err != nil {
							b.Fatal(err)
						}
					}
					steps := (trainSamples + bs - 1) / bs
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/step")
					reportPeakFraction(b, trainFLOPs(denseShapes(m), trainSamples))
				})
			}
		}
	})
}

// BenchmarkEpochSigmoidRMSprop is one epoch of the tutorial's first
// model, Dense(100, sigmoid) → Dense(10, softmax) on the flattened 784
// pixels, compiled with RMSprop (Keras's default optimizer) and sparse
// categorical cross-entropy, at batch 32 and 256 on one thread, as
// BenchmarkEpochSigmoidRMSprop/impl=<level>/batch=<b>, with ns/step and
// peak-fraction as BenchmarkEpoch; the Python peers run the same model
// under the same names.
func BenchmarkEpochSigmoidRMSprop(b *testing.B) {
	x, y := benchData()
	x, y = x[:trainSamples*pixels], y[:trainSamples]
	forEachLevel(b, func(b *testing.B) {
		for _, bs := range []int{32, 256} {
			b.Run(fmt.Sprintf("batch=%d", bs), func(b *testing.B) {
				defer kernels.SetThreads(kernels.SetThreads(1))
				mlp.SetRandomSeed(1)
				m := mlp.NewSequential("", mlp.Dense(100, "sigmoid", mlp.InputShape(pixels)), mlp.Dense(classes, "softmax"))
				if err := m.Compile(optim.RMSprop{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
					b.Fatal(err)
				}
				cfg := mlp.FitConfig{Verbose: mlp.VerboseSilent, Seed: 1, BatchSize: bs}
				// Warm-up: builds the model and sizes every buffer.
				if _, err := m.Fit(x[:2*bs*pixels], y[:2*bs], cfg); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Fit(x, y, cfg); err != nil {
						b.Fatal(err)
					}
				}
				steps := (trainSamples + bs - 1) / bs
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/step")
				reportPeakFraction(b, trainFLOPs(denseShapes(m), trainSamples))
			})
		}
	})
}
