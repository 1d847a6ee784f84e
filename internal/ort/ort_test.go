package ort_test

import (
	"context"
	"math"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/internal/interoptest"
	"github.com/simdmlp/simdmlp/internal/ort"
)

// TestRunAffine runs a fixed model written by PyTorch's exporter
// (testdata/gen_affine.py) and compares ONNX Runtime's softmax(x·Wᵀ + b)
// with a float64 computation from the same weights: the runner's input
// and output files, shapes and byte order are right, independently of
// simdmlp's exporter.
func TestRunAffine(t *testing.T) {
	rt := interoptest.ORT(t)
	const n, in, out = 5, 4, 3
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32(i%7)/3 - 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := rt.Run(ctx, []ort.Job{
		{Model: "testdata/affine_softmax.onnx", X: x, Shape: []int{n, in}},
		{Model: "testdata/affine_softmax.onnx", X: x[:in], Shape: []int{1, in}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; len(r.Dims) != 2 || r.Dims[0] != n || r.Dims[1] != out ||
		len(r.Inputs) != 1 || r.Inputs[0] != "x" || len(r.Outputs) != 1 || r.Outputs[0] != "y" {
		t.Fatalf("dims %v, inputs %v, outputs %v; want [%d %d], [x], [y]", r.Dims, r.Inputs, r.Outputs, n, out)
	}
	if len(res[1].Y) != out {
		t.Fatalf("one sample: %d outputs, want %d", len(res[1].Y), out)
	}
	worst := 0.0
	for s := range n {
		z := make([]float64, out)
		sum := 0.0
		for i := range out {
			z[i] = []float64{0.1, -0.2, 0.3}[i]
			for j := range in {
				z[i] += float64(4*i+j-5) / 10 * float64(x[s*in+j])
			}
			z[i] = math.Exp(z[i])
			sum += z[i]
		}
		for i := range out {
			want := z[i] / sum
			d := math.Abs(float64(res[0].Y[s*out+i]) - want)
			if d > 1e-6 {
				t.Errorf("sample %d output %d: ONNX Runtime %v, float64 %v", s, i, res[0].Y[s*out+i], want)
			}
			worst = max(worst, d)
		}
	}
	// The batch of one is the first sample alone.
	for i := range out {
		if d := math.Abs(float64(res[1].Y[i]) - float64(res[0].Y[i])); d > 1e-6 {
			t.Errorf("output %d: %v alone, %v in a batch", i, res[1].Y[i], res[0].Y[i])
		}
	}
	t.Logf("onnxruntime-node %s in %s: largest |diff| from float64 %.3g", rt.Version, rt.Dir, worst)
}

// TestRunBadModel: a file that is not a model is an error, not a hang or
// an empty result.
func TestRunBadModel(t *testing.T) {
	rt := interoptest.ORT(t)
	bad := t.TempDir() + "/bad.onnx"
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := rt.Run(ctx, []ort.Job{{Model: bad, X: make([]float32, 4), Shape: []int{1, 4}}}); err == nil {
		t.Fatal("running a file that is not a model succeeded")
	}
}

// TestMakefileVersion: the Makefile installs the release this package
// expects (CI installs through the Makefile, the tests through Find).
func TestMakefileVersion(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ORT_VERSION\s*:?=\s*(\S+)`).FindSubmatch(b)
	if m == nil || string(m[1]) != ort.Version {
		t.Fatalf("Makefile's ORT_VERSION is %q, package ort's Version %q", m, ort.Version)
	}
}

// TestF32RoundTrip: the raw float32 files keep every bit, NaN payloads
// and signed zeros included.
func TestF32RoundTrip(t *testing.T) {
	v := []float32{0, float32(math.Copysign(0, -1)), 1.5, -3e-39, math.MaxFloat32, float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00123)}
	path := t.TempDir() + "/v.f32"
	if err := ort.WriteF32(path, v); err != nil {
		t.Fatal(err)
	}
	got, err := ort.ReadF32(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float32bits(got[i]) != math.Float32bits(v[i]) {
			t.Errorf("[%d] = %#x, want %#x", i, math.Float32bits(got[i]), math.Float32bits(v[i]))
		}
	}
	if err := os.WriteFile(path, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ort.ReadF32(path); err == nil {
		t.Error("3 bytes read as float32 values")
	}
}
