package bench

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mlp/onnx"
)

// The ONNX figures: the tutorial's model exported with onnx.Save, then
// either run by ONNX Runtime (peers/ort_mlp.js through cmd/ortpeer, as
// impl=onnxruntime in BenchmarkPredictorOne and BenchmarkPredictorBatch)
// or read back with onnx.Load and run by a Predictor here, as
// BenchmarkPredictorOneONNX and BenchmarkPredictorBatchONNX. The imported
// model is a Sequential like any other, so its Predictor is the same code
// on the same weights as the native one: those two rows should match the
// native rows within the noise, and TestImportedPredictorSame checks that
// they compute the same bits.

// importedModel exports the tutorial's model to an ONNX file and reads it
// back.
func importedModel(tb testing.TB) (native, imported *mlp.Sequential) {
	tb.Helper()
	native = tutorialModel(tb)
	path := filepath.Join(tb.TempDir(), "tutorial.onnx")
	if err := onnx.Save(native, path); err != nil {
		tb.Fatal(err)
	}
	imported, err := onnx.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return native, imported
}

// BenchmarkPredictorOneONNX is BenchmarkPredictorOne's latency through a
// Predictor of the model read back from its ONNX export, as
// BenchmarkPredictorOneONNX/impl=<level>.
func BenchmarkPredictorOneONNX(b *testing.B) {
	x, _ := benchData()
	forEachLevel(b, func(b *testing.B) {
		_, m := importedModel(b)
		benchPredictor(b, m, x[:pixels], 1)
	})
}

// BenchmarkPredictorBatch is Predictor.Predict on 12000 samples (the
// evaluation split's size), as BenchmarkPredictorBatch/impl=<level>.
func BenchmarkPredictorBatch(b *testing.B) {
	x, _ := benchData()
	forEachLevel(b, func(b *testing.B) {
		benchPredictor(b, tutorialModel(b), x[trainSamples*pixels:], evalSamples)
	})
}

// BenchmarkPredictorBatchONNX is BenchmarkPredictorBatch through the model
// read back from its ONNX export.
func BenchmarkPredictorBatchONNX(b *testing.B) {
	x, _ := benchData()
	forEachLevel(b, func(b *testing.B) {
		_, m := importedModel(b)
		benchPredictor(b, m, x[trainSamples*pixels:], evalSamples)
	})
}

// benchPredictor times Predict of n samples of m's Predictor.
func benchPredictor(b *testing.B, m *mlp.Sequential, x []float32, n int) {
	p, err := m.Predictor()
	if err != nil {
		b.Fatal(err)
	}
	timePredict(b, p, x, n)
}

// timePredict times p.Predict of n samples of x, after one call that
// warms the scratch buffers.
func timePredict(b *testing.B, p *mlp.Predictor, x []float32, n int) {
	out := make([]float32, n*classes)
	if err := p.Predict(x, n, out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Predict(x, n, out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImportedPredictorSame: the model read back from its ONNX export has
// the native model's architecture and weights bit for bit, and its
// Predictor gives the native Predictor's outputs bit for bit on 12000
// samples: the ONNX rows time the same computation.
func TestImportedPredictorSame(t *testing.T) {
	native, imported := importedModel(t)
	if !slices.Equal(native.InputShape(), imported.InputShape()) || native.OutputSize() != imported.OutputSize() {
		t.Fatalf("shapes: native %v → %d, imported %v → %d",
			native.InputShape(), native.OutputSize(), imported.InputShape(), imported.OutputSize())
	}
	wn, wi := native.Weights(), imported.Weights()
	if len(wn) != len(wi) {
		t.Fatalf("%d weight tensors, imported %d", len(wn), len(wi))
	}
	for i := range wn {
		if !slices.EqualFunc(wn[i], wi[i], func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("weight tensor %d differs after the round trip", i)
		}
	}
	x, _ := benchData()
	x = x[trainSamples*pixels:]
	outs := make([][]float32, 2)
	for i, m := range []*mlp.Sequential{native, imported} {
		p, err := m.Predictor()
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = make([]float32, evalSamples*classes)
		if err := p.Predict(x, evalSamples, outs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Error("the imported model's Predictor computes other bits than the native one's")
	}
}
