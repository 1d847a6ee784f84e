package mlp

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/simdmlp/simdmlp/internal/interoptest"
)

// python returns the path of Debian's python3 with numpy, or skips the
// test saying what is missing. It does not use another python on PATH:
// the check is that the system's numpy package is enough.
func python(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		interoptest.Skip(t, py+" not found (install Debian's python3-numpy to run the interoperability test)")
	}
	if out, err := exec.Command(py, "-c", "import numpy").CombinedOutput(); err != nil {
		interoptest.Skip(t, fmt.Sprintf("%s has no numpy (install Debian's python3-numpy): %v %s", py, err, out))
	}
	return py
}

func writeF32(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= tol) {
			t.Errorf("%s[%d] = %v, want %v (|diff| %.3g > %g)", what, i, got[i], want[i], d, tol)
			return
		}
		worst = max(worst, d)
	}
	t.Logf("%s: %d values, largest |diff| %.3g", what, len(got), worst)
}

// TestInteropNumpyReadsOurFile: a numpy script that knows only the
// safetensors specification reads a saved model, runs its forward pass
// from the metadata, and matches Predict.
func TestInteropNumpyReadsOurFile(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	SetRandomSeed(11)
	m := NewSequential("interop", Flatten(InputShape(4, 5)), Dense(16, "tanh"), Dense(8, "sigmoid"),
		Dense(6, "linear"), Dense(12, "relu"), Dense(3, "softmax"))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	w := m.Weights()
	for i := 1; i < len(w); i += 2 {
		for j := range w[i] {
			w[i][j] = float32(j%5)*0.05 - 0.1
		}
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	x, _ := synth(33, 20, 3, 5)
	want := make([]float32, 33*3)
	if err := m.Predict(x, want); err != nil {
		t.Fatal(err)
	}
	model, xp, outp := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "x.f32"), filepath.Join(dir, "out.f32")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	writeF32(t, xp, x)
	if out, err := exec.Command(py, "testdata/interop.py", "predict", model, xp, outp).CombinedOutput(); err != nil {
		t.Fatalf("interop.py predict: %v\n%s", err, out)
	}
	closeTo(t, "numpy forward pass", readF32(t, outp), want, 1e-5)
}

// TestInteropWeLoadNumpyFile: a file written by numpy from Keras's
// get_weights() layout, tensors in name order as safetensors.numpy writes
// them, loads and predicts what numpy computes.
func TestInteropWeLoadNumpyFile(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	model, xp, outp := filepath.Join(dir, "keras.safetensors"), filepath.Join(dir, "x.f32"), filepath.Join(dir, "out.f32")
	if out, err := exec.Command(py, "testdata/interop.py", "write", model, xp, outp).CombinedOutput(); err != nil {
		t.Fatalf("interop.py write: %v\n%s", err, out)
	}
	m, err := Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != `Sequential "sequential": flatten (Flatten) → dense (Dense) → dense_1 (Dense) → dense_2 (Dense)` {
		t.Errorf("loaded %s", got)
	}
	x := readF32(t, xp)
	got := make([]float32, len(x)/12*5)
	if err := m.Predict(x, got); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "Predict of the numpy-written model", got, readF32(t, outp), 1e-5)
	// Saving it again gives a file numpy reads back to the same weights.
	again := filepath.Join(dir, "again.safetensors")
	if err := m.Save(again); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "testdata/interop.py", "predict", again, xp, outp).CombinedOutput(); err != nil {
		t.Fatalf("interop.py predict: %v\n%s", err, out)
	}
	closeTo(t, "numpy on the re-saved model", readF32(t, outp), got, 1e-5)
}
