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

// imageSamples is the number of real images BenchmarkPredictorOneImages
// cycles through: enough for their mix of backgrounds, few enough (200 KB)
// to stay in L2 as BenchmarkPredictorOne's one sample stays in L1.
const imageSamples = 64

// BenchmarkPredictorOneImages is the latency of one sample as a service
// sees it, on real Fashion-MNIST images (the first imageSamples of the
// tutorial's training split, one per call in turn) instead of
// BenchmarkPredictorOne's uniform noise, through the float32 and the int8
// predictor, as BenchmarkPredictorOneImages/impl=<level>/dtype=<d>. The
// values matter to the int8 path: an image's background quantizes to
// codes of zero, and the groups of 4 zero codes add nothing to the exact
// sums, which the AVX-512 product's one-row tiles skip (38% of the
// groups of the test set's images). It skips, saying why, when the data
// are not installed.
func BenchmarkPredictorOneImages(b *testing.B) {
	d, err := fashionData()
	if err != nil {
		b.Skipf("no Fashion-MNIST here (install dataset-fashion-mnist or set SIMDMLP_DATA): %v", err)
	}
	x := d.x[:imageSamples*pixels]
	forEachLevel(b, func(b *testing.B) {
		for _, dtype := range []string{"float32", "int8"} {
			b.Run("dtype="+dtype, func(b *testing.B) {
				m := tutorialModel(b)
				p, err := m.Predictor()
				if dtype == "int8" {
					p, err = m.QuantizedPredictor()
				}
				if err != nil {
					b.Fatal(err)
				}
				out := make([]float32, classes)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := p.PredictOne(x[i*pixels:(i+1)*pixels], out); err != nil {
						b.Fatal(err)
					}
					i = (i + 1) % imageSamples
				}
			})
		}
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
