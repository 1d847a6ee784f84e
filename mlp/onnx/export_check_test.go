package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// TestExportOnnxChecker has the onnx Python package read what Write
// writes (testdata/onnx_check.py): its protobuf parser, onnx.checker with
// full_check (strict shape inference), the header fields the package doc
// promises, and a float64 numpy evaluation of the graph that must agree
// with our Predict. This checks the export against ONNX's own reading of
// the format, not against our reader.
func TestExportOnnxChecker(t *testing.T) {
	py := interopPython(t, "ONNX checker test", "import onnx, numpy", "python3-onnx and python3-numpy")
	dir := t.TempDir()
	type entry struct {
		File    string `json:"file"`
		X       string `json:"x"`
		Y       string `json:"y"`
		Samples int    `json:"samples"`
	}
	const samples = 16
	var manifest []entry
	models := map[string]*mlp.Sequential{}
	for k, act := range kernels.ActivationNames() {
		for j, image := range []bool{true, false} {
			seed := uint64(2*k + j)
			c := roundTripCase{image: image, hidden: []int{24, 12}[:1+k%2], act: act, last: "softmax", drop: true}
			if k%2 == 1 {
				c.last = "linear"
			}
			name := fmt.Sprintf("%s_image%v", act, image)
			m := c.build(t, name)
			randomize(t, m, seed)
			file := name + ".onnx"
			if err := Save(m, filepath.Join(dir, file)); err != nil {
				t.Fatal(err)
			}
			x := inputs(samples, m.InputSize(), seed)
			writeF32(t, filepath.Join(dir, name+".x.bin"), x)
			manifest = append(manifest, entry{file, name + ".x.bin", name + ".y.bin", samples})
			models[file] = m
		}
	}
	mb, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join("testdata", "onnx_check.py"), dir).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("onnx_check.py: %v\n%s", err, msg)
	}
	var report struct {
		Onnx   string `json:"onnx"`
		Models []struct {
			File            string         `json:"file"`
			IRVersion       int            `json:"ir_version"`
			Opsets          map[string]int `json:"opsets"`
			ProducerName    string         `json:"producer_name"`
			ProducerVersion string         `json:"producer_version"`
			GraphName       string         `json:"graph_name"`
			Inputs          []string       `json:"inputs"`
			InputDims       []any          `json:"input_dims"`
			Outputs         []string       `json:"outputs"`
			OutputDims      []any          `json:"output_dims"`
			Ops             []string       `json:"ops"`
			Initializers    []string       `json:"initializers"`
		} `json:"models"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("onnx_check.py's report: %v\n%s", err, out)
	}
	if len(report.Models) != len(manifest) {
		t.Fatalf("onnx_check.py checked %d models, want %d", len(report.Models), len(manifest))
	}
	t.Logf("onnx %s", report.Onnx)
	worst := 0.0
	for i, r := range report.Models {
		m := models[r.File]
		var wantOps, wantInits []string
		for _, l := range m.Layers() {
			switch l.ClassName() {
			case "Flatten":
				wantOps = append(wantOps, "Flatten")
			case "Dense":
				wantOps = append(wantOps, "Gemm")
				if op := onnxActivation[l.Activation()]; op != "" {
					wantOps = append(wantOps, op)
				}
				wantInits = append(wantInits, l.Name()+"/kernel", l.Name()+"/bias")
			}
		}
		wantIn := []any{BatchDim}
		for _, d := range m.InputShape() {
			wantIn = append(wantIn, float64(d))
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"ir_version", r.IRVersion, IRVersion},
			{"opsets", fmt.Sprint(r.Opsets), fmt.Sprint(map[string]int{"": Opset})},
			{"producer_name", r.ProducerName, ProducerName},
			{"graph name", r.GraphName, m.Name()},
			{"inputs", strings.Join(r.Inputs, ","), InputName},
			{"input dims", fmt.Sprint(r.InputDims), fmt.Sprint(wantIn)},
			{"outputs", strings.Join(r.Outputs, ","), OutputName},
			{"output dims", fmt.Sprint(r.OutputDims), fmt.Sprint([]any{BatchDim, float64(m.OutputSize())})},
			{"ops", strings.Join(r.Ops, ","), strings.Join(wantOps, ",")},
			{"initializers", strings.Join(r.Initializers, ","), strings.Join(wantInits, ",")},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s is %v, want %v", r.File, c.what, c.got, c.want)
			}
		}
		if r.ProducerVersion == "" {
			t.Errorf("%s: no producer_version", r.File)
		}
		e := manifest[i]
		x := readF32(t, filepath.Join(dir, e.X))
		want := readF32(t, filepath.Join(dir, e.Y))
		got := predict(t, m, x)
		if len(got) != len(want) {
			t.Fatalf("%s: numpy gave %d outputs, Predict %d", r.File, len(want), len(got))
		}
		d := maxAbsDiff(got, want)
		worst = math.Max(worst, d)
		if !(d <= 1e-5) {
			t.Errorf("%s: Predict differs from numpy's evaluation of the file by %g", r.File, d)
		}
	}
	t.Logf("largest difference between Predict and numpy's evaluation of the exported graphs: %.3g", worst)
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
