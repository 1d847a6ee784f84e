package onnx

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/simdmlp/simdmlp/internal/interoptest"
)

// torchTolerance is the largest absolute difference allowed between our
// Predict and PyTorch's outputs on the same float32 weights and inputs:
// both round to float32, summing 784 products in different orders.
const torchTolerance = 1e-5

// interopPython returns a Python that can run imports (a statement such
// as "import torch"), or skips the test (fails it under
// SIMDMLP_TEST_REQUIRE_INTEROP=1, see package interoptest) saying why not and which Debian
// packages (debs) provide them. SIMDMLP_PYTHON picks the Python;
// otherwise Debian's /usr/bin/python3 (where apt's packages live, ahead
// of any pyenv or venv on PATH), then python3 on PATH.
func interopPython(t *testing.T, what, imports, debs string) string {
	t.Helper()
	if testing.Short() {
		// make test's emulated arm64 run is -short: the Python side would
		// run natively and prove again what the native run proves.
		t.Skip("-short: the " + what + " runs in the full suite")
	}
	var candidates []string
	if p := os.Getenv("SIMDMLP_PYTHON"); p != "" {
		candidates = []string{p}
	} else {
		candidates = []string{"/usr/bin/python3", "python3"}
	}
	var why string
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err != nil {
			why += c + ": not found; "
			continue
		}
		out, err := exec.Command(p, "-c", imports).CombinedOutput()
		if err == nil {
			return p
		}
		why += c + ": " + lastLine(out) + "; "
	}
	interoptest.Skip(t, "the "+what+" cannot run: no Python that can "+imports+" ("+why+
		"install Debian's "+debs+", or set SIMDMLP_PYTHON)")
	return ""
}

func lastLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

// torchManifest is testdata/torch_export.py's manifest.json.
type torchManifest struct {
	Torch  string `json:"torch"`
	Models []struct {
		Name       string   `json:"name"`
		InputShape []int    `json:"input_shape"`
		Outputs    int      `json:"outputs"`
		Softmax    bool     `json:"softmax"`
		Samples    int      `json:"samples"`
		Files      []string `json:"files"`
	} `json:"models"`
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes, not float32s", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestTorch exports PyTorch MLPs with torch.onnx.export (testdata/
// torch_export.py) at several opsets, reads each file, and checks that our
// Predict agrees with PyTorch's outputs and that the imported models
// fine-tune, with and without a final softmax.
func TestTorch(t *testing.T) {
	py := interopPython(t, "PyTorch interoperability test", "import torch, torch.onnx", "python3-torch")
	dir := t.TempDir()
	cmd := exec.Command(py, filepath.Join("testdata", "torch_export.py"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torch_export.py: %v\n%s", err, out)
	}
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man torchManifest
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Models) == 0 {
		t.Fatal("torch_export.py exported no model")
	}
	t.Logf("torch %s", man.Torch)
	worst := 0.0
	tuned := map[bool]bool{}
	for _, spec := range man.Models {
		x := readF32(t, filepath.Join(dir, spec.Name+".x.bin"))
		want := readF32(t, filepath.Join(dir, spec.Name+".y.bin"))
		if len(want) != spec.Samples*spec.Outputs {
			t.Fatalf("%s: %d outputs, want %d×%d", spec.Name, len(want), spec.Samples, spec.Outputs)
		}
		for _, file := range spec.Files {
			t.Run(file, func(t *testing.T) {
				m, err := Load(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if got := m.InputShape(); !slices.Equal(got, spec.InputShape) {
					t.Errorf("input shape %v, want %v", got, spec.InputShape)
				}
				layers := m.Layers()
				lastAct := layers[len(layers)-1].Activation()
				if wantAct := map[bool]string{true: "softmax", false: "linear"}[spec.Softmax]; lastAct != wantAct {
					t.Errorf("last activation %q, want %q", lastAct, wantAct)
				}
				got := predict(t, m, x)
				d := maxAbsDiff(got, want)
				worst = math.Max(worst, d)
				t.Logf("%v: max |ours − torch| = %.3g", m, d)
				if !(d <= torchTolerance) {
					t.Errorf("Predict differs from PyTorch's outputs by up to %g (tolerance %g)", d, torchTolerance)
				}
				if !tuned[spec.Softmax] {
					tuned[spec.Softmax] = true
					checkFineTunes(t, m, !spec.Softmax)
				}
			})
		}
	}
	t.Logf("largest difference from PyTorch over every model and opset: %.3g", worst)
	if !tuned[true] || !tuned[false] {
		t.Errorf("fine-tuned models with softmax: %v, without: %v; want both", tuned[true], tuned[false])
	}
}
