package bench

import (
	"testing"
)

// The int8 rows (issue 19): the tutorial's model through its
// QuantizedPredictor, beside BenchmarkPredictorOne and
// BenchmarkPredictorBatch's float32 Predictor and ONNX Runtime's float32
// session, as BenchmarkPredictorOneInt8/impl=<level> and
// BenchmarkPredictorBatchInt8/impl=<level>. Every level computes the same
// int8 bits (mlp's TestQuantizedPredictorLevels), so the rows differ only
// in time.

// BenchmarkPredictorOneInt8 is the latency of one sample through the int8
// predictor.
func BenchmarkPredictorOneInt8(b *testing.B) {
	x, _ := benchData()
	forEachLevel(b, func(b *testing.B) {
		benchQuantized(b, x[:pixels], 1)
	})
}

// BenchmarkPredictorBatchInt8 is Predict of the 12000 evaluation samples
// through the int8 predictor.
func BenchmarkPredictorBatchInt8(b *testing.B) {
	x, _ := benchData()
	forEachLevel(b, func(b *testing.B) {
		benchQuantized(b, x[trainSamples*pixels:], evalSamples)
	})
}

// benchQuantized times Predict of n samples of x through the tutorial
// model's int8 predictor.
func benchQuantized(b *testing.B, x []float32, n int) {
	p, err := tutorialModel(b).QuantizedPredictor()
	if err != nil {
		b.Fatal(err)
	}
	timePredict(b, p, x, n)
}
