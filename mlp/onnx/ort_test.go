package onnx_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/internal/interoptest"
	"github.com/simdmlp/simdmlp/internal/ort"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mlp/onnx"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// ortTolerance is the largest absolute difference allowed between ONNX
// Runtime's outputs and Predict's. Both compute in float32 but sum the
// dot products in different orders, so the outputs differ in their last
// bits: a few 1e-7 on probabilities, a few 1e-6 on logits of order 10
// (the from-logits model), far below what a wrong weight, activation or
// axis gives.
const ortTolerance = 1e-5

// ortSamples is how many Fashion-MNIST test images each model sees.
const ortSamples = 1000

// fashion returns the first n test images scaled to [0, 1] and the first
// trainN training images with their labels. The data are required unless
// -short: CI installs them (mlp's integration test decides the same).
func fashion(t *testing.T, n, trainN int) (xTest, xTrain []float32, yTrain []int32) {
	t.Helper()
	train, test, err := mnist.LoadFashionWith(mnist.Options{Dir: os.Getenv("SIMDMLP_TEST_DATA"), NoDownload: true})
	if err != nil {
		if errors.Is(err, mnist.ErrNotFound) && testing.Short() {
			t.Skipf("Fashion-MNIST not installed: %v", err)
		}
		t.Fatalf("loading Fashion-MNIST: %v", err)
	}
	const px = 28 * 28
	return test.Scaled()[:n*px], train.Scaled()[:trainN*px], train.Labels[:trainN]
}

// ortCase is one architecture: its layers, the loss it is compiled with
// and whether it is trained before export.
type ortCase struct {
	name   string
	layers func() []*mlp.Layer
	loss   string
}

// ortCases cover every activation as a hidden layer, one to three hidden
// layers, both input forms ([N, 28, 28] through Flatten and [N, 784]),
// Dropout (which the export leaves out) and a linear output trained from
// logits (whose export ends without Softmax).
var ortCases = []ortCase{
	{"relu", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"sigmoid-784", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Dense(64, "sigmoid", mlp.InputShape(784)), mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"tanh-tanh", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(50, "tanh"), mlp.Dense(30, "tanh"),
			mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"linear-relu-sigmoid", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(40, "linear"), mlp.Dense(20, "relu"),
			mlp.Dense(16, "sigmoid"), mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"relu-relu-relu-784", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Dense(64, "relu", mlp.InputShape(784)), mlp.Dense(32, "relu"), mlp.Dense(16, "relu"),
			mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"dropout", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(128, "relu"), mlp.Dropout(0.3),
			mlp.Dense(64, "tanh"), mlp.Dropout(0.2), mlp.Dense(10, "softmax")}
	}, mlp.SparseCategoricalCrossentropy},
	{"from-logits", func() []*mlp.Layer {
		return []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dense(10, "linear")}
	}, mlp.SparseCategoricalCrossentropyFromLogits},
}

// TestORTMatchesPredict trains each architecture of ortCases for one short
// epoch on real Fashion-MNIST, exports it with Save, runs the file in ONNX
// Runtime (onnxruntime-node, one thread) on 1000 test images, and checks
// that every output is within ortTolerance of Predict's: the exported graph
// computes what the model computes, the input shape, Flatten, the Gemm
// layout, each activation, the Softmax axis and the Dropout left out
// included. An untrained copy of the first model is checked too, so that
// weights that training has not moved far from Glorot's are covered.
func TestORTMatchesPredict(t *testing.T) {
	rt := interoptest.ORT(t)
	const trainN = 4000
	x, xt, yt := fashion(t, ortSamples, trainN)
	dir := t.TempDir()

	type model struct {
		name    string
		m       *mlp.Sequential
		want    []float32
		softmax bool
	}
	var models []model
	var jobs []ort.Job
	add := func(name string, m *mlp.Sequential, softmax bool) {
		want := make([]float32, ortSamples*m.OutputSize())
		if err := m.Predict(x, want); err != nil {
			t.Fatalf("%s: Predict: %v", name, err)
		}
		path := filepath.Join(dir, name+".onnx")
		if err := onnx.Save(m, path); err != nil {
			t.Fatalf("%s: Save: %v", name, err)
		}
		models = append(models, model{name, m, want, softmax})
		jobs = append(jobs, ort.Job{Model: path, X: x, Shape: append([]int{ortSamples}, m.InputShape()...)})
	}
	for i, c := range ortCases {
		mlp.SetRandomSeed(uint64(100 + i))
		m := mlp.NewSequential("ort_"+c.name, c.layers()...)
		if err := m.Compile(optim.Adam{}, c.loss, "accuracy"); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if i == 0 {
			// Before training, for weights of Glorot's initial scale.
			add(c.name+"-untrained", m, true)
			u := m
			m = mlp.NewSequential("ort_"+c.name, c.layers()...)
			if err := m.Compile(optim.Adam{}, c.loss, "accuracy"); err != nil {
				t.Fatal(err)
			}
			if err := m.SetWeights(u.Weights()); err != nil {
				t.Fatal(err)
			}
		}
		h, err := m.Fit(xt, yt, mlp.FitConfig{Epochs: 1, Seed: uint64(i + 1), Verbose: mlp.VerboseSilent})
		if err != nil {
			t.Fatalf("%s: Fit: %v", c.name, err)
		}
		if acc := h.History["accuracy"][0]; acc < 0.5 {
			t.Fatalf("%s: training accuracy %.3f after one epoch: the model did not train", c.name, acc)
		}
		add(c.name, m, c.loss == mlp.SparseCategoricalCrossentropy)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := rt.Run(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, md := range models {
		r := res[i]
		k := md.m.OutputSize()
		if !slices.Equal(r.Dims, []int{ortSamples, k}) {
			t.Errorf("%s: ONNX Runtime's output is %v, want [%d %d]", md.name, r.Dims, ortSamples, k)
			continue
		}
		if !slices.Equal(r.Inputs, []string{"input"}) || !slices.Equal(r.Outputs, []string{"output"}) {
			t.Errorf("%s: the graph's inputs are %q and outputs %q, want [input] and [output]", md.name, r.Inputs, r.Outputs)
		}
		worst, at := maxAbsDiff(r.Y, md.want)
		if !(worst <= ortTolerance) {
			t.Errorf("%s: ONNX Runtime's output [%d][%d] is %v, Predict's %v: |diff| %.3g > %g",
				md.name, at/k, at%k, r.Y[at], md.want[at], worst, ortTolerance)
		}
		// Softmax outputs are probabilities and a linear output is not:
		// checked on ORT's side, so that an export that adds or drops the
		// final Softmax cannot pass by luck of the tolerance.
		if sum := rowSum(r.Y[:k]); md.softmax != (math.Abs(sum-1) < 1e-4) {
			t.Errorf("%s: the first row of ONNX Runtime's output sums to %v (softmax output: %v)", md.name, sum, md.softmax)
		}
		t.Logf("%-28s %d×%v → %d: largest |ORT − Predict| %.3g", md.name, ortSamples, md.m.InputShape(), k, worst)
	}
	t.Logf("onnxruntime-node %s (%s)", rt.Version, rt.Dir)
}

// maxAbsDiff returns the largest |a[i] − b[i]| and its index; a NaN
// anywhere makes it NaN, which fails every comparison.
func maxAbsDiff(a, b []float32) (float64, int) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("maxAbsDiff: %d and %d values", len(a), len(b)))
	}
	worst, at := 0.0, 0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
			if math.IsNaN(d) {
				break
			}
		}
	}
	return worst, at
}

func rowSum(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s
}
