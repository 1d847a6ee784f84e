package onnx

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// roundTripCase is one architecture of TestRoundTrip.
type roundTripCase struct {
	name   string
	image  bool // input (28, 28) through Flatten, else (784,)
	hidden []int
	act    string
	last   string // "softmax" or "linear"
	drop   bool   // a Dropout after each hidden layer
}

func roundTripCases() []roundTripCase {
	var cs []roundTripCase
	// Every activation kernels knows, in a hidden layer, with 1 to 3
	// hidden layers, image and flat inputs, Dropout or not, softmax or
	// logits out: not the whole product, but every value of every
	// dimension several times over.
	acts := kernels.ActivationNames()
	i := 0
	for _, act := range acts {
		for depth := 1; depth <= 3; depth++ {
			hidden := []int{33, 17, 9}[:depth]
			for _, last := range []string{"softmax", "linear"} {
				c := roundTripCase{
					act: act, hidden: hidden, last: last,
					image: i%2 == 0, drop: i%3 == 0,
				}
				c.name = fmt.Sprintf("%s/depth%d/%s/image=%v/dropout=%v", act, depth, last, c.image, c.drop)
				cs = append(cs, c)
				i++
			}
		}
	}
	return cs
}

func (c roundTripCase) build(t *testing.T, name string) *mlp.Sequential {
	t.Helper()
	var layers []*mlp.Layer
	in := mlp.InputShape(784)
	if c.image {
		layers = append(layers, mlp.Flatten(mlp.InputShape(28, 28)))
	}
	for i, h := range c.hidden {
		var opts []mlp.LayerOption
		if i == 0 && !c.image {
			opts = append(opts, in)
		}
		layers = append(layers, mlp.Dense(h, c.act, opts...))
		if c.drop {
			layers = append(layers, mlp.Dropout(0.25))
		}
	}
	layers = append(layers, mlp.Dense(10, c.last))
	m := mlp.NewSequential(name, layers...)
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRoundTrip writes models to ONNX and reads them back: same name,
// same layers (Dropout left out), bit-identical weights and predictions,
// and the same bytes when written again.
func TestRoundTrip(t *testing.T) {
	for k, c := range roundTripCases() {
		t.Run(c.name, func(t *testing.T) {
			mlp.SetRandomSeed(uint64(k))
			m := c.build(t, fmt.Sprintf("model_%d", k))
			randomize(t, m, uint64(k))
			b := writeBytes(t, m)
			got, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			checkSameModel(t, m, got)
			x := inputs(50, 784, uint64(k))
			want := predict(t, m, x)
			if i, ok := sameBits(predict(t, got, x), want); !ok {
				t.Fatalf("Predict differs after the round trip at %d", i)
			}
			if again := writeBytes(t, got); !bytes.Equal(again, b) {
				t.Fatalf("writing the imported model gives %d bytes that differ from the %d written first", len(again), len(b))
			}
		})
	}
}

// checkSameModel compares what a round trip keeps: the name, the input
// shape, the layers other than Dropout (name, class, units, activation)
// and the weights bit for bit.
func checkSameModel(t *testing.T, want, got *mlp.Sequential) {
	t.Helper()
	if got.Name() != want.Name() {
		t.Errorf("model name %q, want %q", got.Name(), want.Name())
	}
	if fmt.Sprint(got.InputShape()) != fmt.Sprint(want.InputShape()) {
		t.Errorf("input shape %v, want %v", got.InputShape(), want.InputShape())
	}
	var wl []*mlp.Layer
	for _, l := range want.Layers() {
		if l.ClassName() != "Dropout" {
			wl = append(wl, l)
		}
	}
	gl := got.Layers()
	if len(gl) != len(wl) {
		t.Fatalf("%d layers %v, want %d %v", len(gl), got, len(wl), want)
	}
	for i := range gl {
		g, w := gl[i], wl[i]
		if g.Name() != w.Name() || g.ClassName() != w.ClassName() || g.Units() != w.Units() || g.Activation() != w.Activation() {
			t.Errorf("layer %d: %s %s units %d %q, want %s %s units %d %q", i,
				g.Name(), g.ClassName(), g.Units(), g.Activation(), w.Name(), w.ClassName(), w.Units(), w.Activation())
		}
	}
	ww, gw := want.Weights(), got.Weights()
	if len(ww) != len(gw) {
		t.Fatalf("%d weight tensors, want %d", len(gw), len(ww))
	}
	for i := range ww {
		if j, ok := sameBits(gw[i], ww[i]); !ok {
			t.Fatalf("weight %s differs at %d", want.WeightNames()[i], j)
		}
	}
	if got.Loss() != "" {
		t.Errorf("the imported model is compiled (loss %q); Read returns it uncompiled", got.Loss())
	}
}

// TestRoundTripNames checks that Read keeps layer names that are not
// Keras's defaults and that reading our own file, whose names come from
// the file, leaves mlp's automatic name counters alone.
func TestRoundTripNames(t *testing.T) {
	m := mlp.NewSequential("my model", mlp.Flatten(mlp.InputShape(4, 3), mlp.Name("pixels")),
		mlp.Dense(5, "relu", mlp.Name("hidden layer/1")), mlp.Dense(2, "softmax", mlp.Name("probabilities")))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	randomize(t, m, 3)
	mlp.ResetNames()
	got, err := Read(bytes.NewReader(writeBytes(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	checkSameModel(t, m, got)
	if n := mlp.Dense(1, "").Name(); n != "dense" {
		t.Errorf("after Read the next automatic Dense name is %q, want \"dense\"", n)
	}
}

// TestRoundTripOddLayers covers layer orders mlp builds although Keras
// users rarely write them: a Dropout last (the graph's output is then the
// last Dense layer's), a Dropout first, and a Flatten between Dense
// layers (a Flatten node on 2-D values, which reads back as a Flatten).
func TestRoundTripOddLayers(t *testing.T) {
	m := mlp.NewSequential("odd",
		mlp.Dropout(0.1, mlp.InputShape(4, 3), mlp.Name("d0")),
		mlp.Flatten(mlp.Name("f0")),
		mlp.Dense(6, "sigmoid", mlp.Name("a")),
		mlp.Flatten(mlp.Name("f1")),
		mlp.Dense(3, "linear", mlp.Name("b")),
		mlp.Dropout(0.3, mlp.Name("d1")))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	randomize(t, m, 4)
	got, err := Read(bytes.NewReader(writeBytes(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	checkSameModel(t, m, got)
	x := inputs(9, 12, 4)
	if i, ok := sameBits(predict(t, got, x), predict(t, m, x)); !ok {
		t.Fatalf("Predict differs after the round trip at %d", i)
	}
}

// TestLoadSave runs the round trip through files.
func TestLoadSave(t *testing.T) {
	m := roundTripCase{image: true, hidden: []int{20}, act: "relu", last: "softmax"}.build(t, "file_model")
	randomize(t, m, 9)
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := Save(m, path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSameModel(t, m, got)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, writeBytes(t, m)) {
		t.Error("Save and Write write different bytes")
	}
}

// TestSaveAtomic checks that a Save that fails leaves the file that was
// there, whole, and no temporary file.
func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	good := roundTripCase{hidden: []int{8}, act: "tanh", last: "linear"}.build(t, "good")
	randomize(t, good, 1)
	if err := Save(good, path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	diverged := roundTripCase{hidden: []int{8}, act: "tanh", last: "linear"}.build(t, "diverged")
	w := diverged.Weights()
	w[2][3] = float32(math.Inf(1))
	if err := diverged.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	unbuilt := mlp.NewSequential("unbuilt", mlp.Dense(3, "relu"))
	other := roundTripCase{image: true, hidden: []int{30}, act: "relu", last: "softmax"}.build(t, "other")
	cases := []struct {
		name string
		save func() error
		want string
	}{
		{"non-finite weight", func() error { return Save(diverged, path) }, "+Inf"},
		{"unbuilt", func() error { return Save(unbuilt, path) }, "not yet been built"},
		{"nil", func() error { return Save(nil, path) }, "nil model"},
		{"directory", func() error { return Save(good, dir) }, "directory"},
	}
	cases = append(cases, struct {
		name string
		save func() error
		want string
	}{"write fails half-way", func() error {
		saveWriterHook = func(w io.Writer) io.Writer { return &limitedWriter{w: w, left: 1000} }
		defer func() { saveWriterHook = nil }()
		return Save(other, path)
	}, "no space left"})
	for _, c := range cases {
		err := c.save()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Save error %v, want one containing %q", c.name, err, c.want)
		}
		after, rerr := os.ReadFile(path)
		if rerr != nil || !bytes.Equal(after, before) {
			t.Errorf("%s: the file at %s changed (%v)", c.name, path, rerr)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v, want only model.onnx", names)
	}
}

// TestWriteError checks that Write reports the writer's error.
func TestWriteError(t *testing.T) {
	m := roundTripCase{hidden: []int{4}, act: "relu", last: "softmax"}.build(t, "m")
	err := Write(failingWriter{}, m)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write to a failing writer: %v", err)
	}
}

// limitedWriter passes on left bytes, then fails as a full disk does.
type limitedWriter struct {
	w    io.Writer
	left int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if len(b) > l.left {
		n, _ := l.w.Write(b[:l.left])
		l.left = 0
		return n, fmt.Errorf("no space left on device")
	}
	l.left -= len(b)
	return l.w.Write(b)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

// TestImportedFineTunes checks that a model read back trains: a linear
// output with the from-logits loss, a softmax output with the usual one.
func TestImportedFineTunes(t *testing.T) {
	for _, last := range []string{"softmax", "linear"} {
		t.Run(last, func(t *testing.T) {
			mlp.SetRandomSeed(5)
			m := roundTripCase{image: true, hidden: []int{16}, act: "relu", last: last}.build(t, "ft")
			got, err := Read(bytes.NewReader(writeBytes(t, m)))
			if err != nil {
				t.Fatal(err)
			}
			checkFineTunes(t, got, last == "linear")
		})
	}
}

// checkFineTunes compiles m and fits it on synthetic data whose labels a
// linear rule of the inputs gives: the loss must fall.
func checkFineTunes(t *testing.T, m *mlp.Sequential, logits bool) {
	t.Helper()
	loss := mlp.SparseCategoricalCrossentropy
	if logits {
		loss = mlp.SparseCategoricalCrossentropyFromLogits
	}
	if err := m.Compile(optim.Adam{}, loss, "accuracy"); err != nil {
		t.Fatal(err)
	}
	const n = 400
	in, classes := m.InputSize(), m.OutputSize()
	x := inputs(n, in, 11)
	y := make([]int32, n)
	for i := range y {
		// Each class brightens its own stripe of the input: learnable
		// in a few epochs, and far from what random weights predict.
		c := i % classes
		y[i] = int32(c)
		for k := c * in / classes; k < (c+1)*in/classes; k++ {
			x[i*in+k] += 1
		}
	}
	before, err := m.EvaluateWith(x, y, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, mlp.FitConfig{Epochs: 5, Verbose: mlp.VerboseSilent, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	after, err := m.EvaluateWith(x, y, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.4f → %.4f, accuracy %.3f → %.3f", before.Loss, after.Loss, before.Accuracy, after.Accuracy)
	if !(after.Loss < 0.9*before.Loss) {
		t.Errorf("fine-tuning took the loss from %v to %v; want a clear fall", before.Loss, after.Loss)
	}
}
