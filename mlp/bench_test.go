package mlp

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// benchData is synthetic Fashion-MNIST-shaped data: the timing of a step
// does not depend on the pixel values.
func benchData(n int) ([]float32, []int32) { return synth(n, 784, 10, 42) }

// BenchmarkFitEpoch is one training epoch of the tutorial's final model
// (Flatten → Dense 100 relu → Dense 10 softmax, Adam, batch 32) on 48000
// samples, the tutorial's 1500 steps.
func BenchmarkFitEpoch(b *testing.B) {
	x, y := benchData(48000)
	b.Logf("kernels: %s", kernels.Active())
	m := tutorialModel(b, optim.Adam{})
	cfg := FitConfig{Verbose: VerboseSilent, Seed: 1}
	if _, err := m.Fit(x[:320*784], y[:320], cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Fit(x, y, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1500, "ns/step")
}

// BenchmarkTrainOnBatch is one step of the same model on 32 samples.
func BenchmarkTrainOnBatch(b *testing.B) {
	x, y := benchData(32)
	m := tutorialModel(b, optim.Adam{})
	if _, _, err := m.TrainOnBatch(x, y); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.TrainOnBatch(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate is Evaluate on the tutorial's 12000 validation
// samples, in batches of 32.
func BenchmarkEvaluate(b *testing.B) {
	x, y := benchData(12000)
	m := tutorialModel(b, optim.Adam{})
	if _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.EvaluateWith(x, y, EvalConfig{Verbose: VerboseSilent}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictOne is the latency of one sample's prediction into a
// caller buffer, the serving case.
func BenchmarkPredictOne(b *testing.B) {
	x, _ := benchData(1)
	m := tutorialModel(b, nil)
	out := make([]float32, 10)
	if err := m.Predict(x, out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Predict(x, out); err != nil {
			b.Fatal(err)
		}
	}
}
