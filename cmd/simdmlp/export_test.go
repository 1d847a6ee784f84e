package main

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// trainedModel trains a small model for one epoch on the first 6000
// training images, so that its accuracy is far from chance and a wrong
// weight in an exported copy shows, and saves it.
func trainedModel(t *testing.T, path, last, loss string) *mlp.Sequential {
	t.Helper()
	train, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true})
	if err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	const n = 6000
	mlp.SetRandomSeed(21)
	m := mlp.NewSequential("exported", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(32, "relu"),
		mlp.Dropout(0.2), mlp.Dense(10, last))
	if err := m.Compile(optim.Adam{}, loss, "accuracy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(train.Scaled()[:n*pixels], train.Labels[:n], mlp.FitConfig{Verbose: mlp.VerboseSilent, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return m
}

// readEvalJSON reads evaluate -json's file and checks that it holds
// exactly the three documented keys.
func readEvalJSON(t *testing.T, path string) evalReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, []string{"accuracy", "loss", "samples"}) {
		t.Errorf("%s has keys %v, want accuracy, loss, samples", path, got)
	}
	var r evalReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// evalLine matches evaluate's summary line.
var evalLine = regexp.MustCompile(`test set: (\d+) images; loss ([0-9.]+), accuracy ([0-9.]+)\n`)

// TestExportThenEvaluate: a trained model exported with `simdmlp export`
// and evaluated as .onnx gives the same loss, accuracy, per-class counts
// and confusion matrix as the .safetensors file it came from (the import
// gives back the same float32 weights, so the same bits), for a softmax
// model with Dropout and for a linear output evaluated from logits; and
// -json holds what the text says.
func TestExportThenEvaluate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains two models and evaluates each four times; the native run covers it")
	}
	for _, c := range []struct{ name, last, loss string }{
		{"softmax", "softmax", mlp.SparseCategoricalCrossentropy},
		{"logits", "linear", mlp.SparseCategoricalCrossentropyFromLogits},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := filepath.Join(dir, "m.safetensors")
			trainedModel(t, st, c.last, c.loss)
			onnxPath := filepath.Join(dir, "m.onnx")
			code, stdout, stderr := runCmd("export", "-model", st, "-o", onnxPath)
			if code != 0 || stderr != "" {
				t.Fatalf("export: exit %d, stderr %q", code, stderr)
			}
			for _, want := range []string{"exported to " + onnxPath, "input [N, 28, 28], output [N, 10]", "1 Dropout layer(s) left out"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("export's output lacks %q:\n%s", want, stdout)
				}
			}
			var outs [2]string
			var reports [2]evalReport
			for i, model := range []string{st, onnxPath} {
				js := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
				code, out, stderr := runCmd("evaluate", "-model", model, "-json", js)
				if code != 0 {
					t.Fatalf("evaluate %s: exit %d, stderr %q", model, code, stderr)
				}
				outs[i], reports[i] = out, readEvalJSON(t, js)
				m := evalLine.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("evaluate %s: no summary line:\n%s", model, out)
				}
				if r := reports[i]; m[1] != fmt.Sprint(r.Samples) || m[2] != fmt.Sprintf("%.4f", r.Loss) ||
					m[3] != fmt.Sprintf("%.4f", r.Accuracy) || r.Samples != 10000 {
					t.Errorf("evaluate %s: -json %+v, text %q", model, r, m[0])
				}
				if logits := strings.Contains(out, "outputs are logits"); logits != (c.last == "linear") {
					t.Errorf("evaluate %s: says logits %v for a %s output:\n%s", model, logits, c.last, out)
				}
			}
			if reports[0] != reports[1] {
				t.Errorf("safetensors %+v, onnx %+v", reports[0], reports[1])
			}
			if reports[0].Accuracy < 0.7 {
				t.Errorf("accuracy %.4f: the model did not train, so the comparison proves little", reports[0].Accuracy)
			}
			// Everything between the model line and the line naming the
			// JSON file is the same text.
			after := func(s string) string { return s[strings.Index(s, "\n")+1 : strings.Index(s, "scores written to")] }
			if after(outs[0]) != after(outs[1]) {
				t.Errorf("the reports differ:\n%s\n---\n%s", outs[0], outs[1])
			}
			t.Logf("%s: loss %.6f, accuracy %.4f from both files", c.name, reports[0].Loss, reports[0].Accuracy)
		})
	}
}

// TestPredictAndShowONNX: predict and show take the exported file; for a
// linear output, predict says that it applies a softmax and prints
// probabilities, which are the softmax of the .safetensors model's logits.
func TestPredictAndShowONNX(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains a model first; the native run covers it")
	}
	test := needData(t)
	dir := t.TempDir()
	st := filepath.Join(dir, "m.safetensors")
	m := trainedModel(t, st, "linear", mlp.SparseCategoricalCrossentropyFromLogits)
	onnxPath := filepath.Join(dir, "m.onnx")
	if code, _, stderr := runCmd("export", "-model", st, "-o", onnxPath); code != 0 {
		t.Fatalf("export: exit %d, %q", code, stderr)
	}
	img := filepath.Join(dir, "x.png")
	writePNG(t, img, testImage(test, 0))
	code, stdout, stderr := runCmd("predict", "-model", onnxPath, img)
	if code != 0 || !strings.Contains(stdout, "outputs are logits, and the probabilities below are their softmax") {
		t.Fatalf("predict: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	logits := make([]float32, 10)
	if err := m.Predict(test.Scaled()[:pixels], logits); err != nil {
		t.Fatal(err)
	}
	probs := slices.Clone(logits)
	softmaxInPlace(probs)
	sum := 0.0
	for _, p := range probs {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Fatalf("softmaxInPlace gives %v, summing to %v", probs, sum)
	}
	if want := img + ": " + formatTop3(probs, true); !strings.Contains(stdout, want) {
		t.Errorf("predict printed\n%s\nwant the line %q", stdout, want)
	}
	grid := filepath.Join(dir, "g.png")
	if code, stdout, stderr := runCmd("show", "-model", onnxPath, "-n", "9", grid); code != 0 || !strings.Contains(stdout, "9 test images drawn") {
		t.Errorf("show: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	checkPNG(t, grid, 100)
}

// testImage returns test image i as a 28×28 gray image.
func testImage(d *mnist.Dataset, i int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(g.Pix, d.Images[i*pixels:(i+1)*pixels])
	return g
}

// TestExportErrors: bad names and paths are refused before anything is
// read or written, a bad model is one line naming it, and nothing is left
// behind.
func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := savedModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, 2, "-model is required"},
		{[]string{"export", "-model", good}, 2, "-o is required"},
		{[]string{"export", "-model", good, "-o", filepath.Join(dir, "out.safetensors")}, 2, "ending in .onnx"},
		{[]string{"export", "-model", good, "-o", filepath.Join(dir, "out")}, 2, "ending in .onnx"},
		{[]string{"export", "-model", good, "-o", out, "extra"}, 2, "unexpected argument"},
		{[]string{"export", "-model", filepath.Join(dir, "none.safetensors"), "-o", out}, 1, "no such file"},
		{[]string{"export", "-model", good, "-o", filepath.Join(dir, "no", "dir", "out.onnx")}, 1, "no such file or directory"},
		{[]string{"evaluate", "-model", good, "-json", filepath.Join(dir, "no", "r.json")}, 1, "no such file or directory"},
		{[]string{"evaluate", "-model", good, "-json", filepath.Join(dir, "c.png"), "-confusion", filepath.Join(dir, "c.png")}, 2, "both name"},
		{[]string{"evaluate", "-model", good, "-json", good}, 2, "both name"},
	} {
		code, stdout, stderr := runCmd(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, stdout, stderr, c.code, c.want)
		}
	}
	// A file that is not an ONNX model, under an .onnx name, for every
	// command that reads models; and an .onnx name that does not exist.
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("this is not a protobuf message at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, grayImage(28, 28))
	for _, file := range []string{garbage, filepath.Join(dir, "none.onnx")} {
		for _, args := range [][]string{
			{"export", "-model", file, "-o", out},
			{"evaluate", "-model", file},
			{"predict", "-model", file, img},
			{"show", "-model", file, filepath.Join(dir, "g.png")},
		} {
			code, stdout, stderr := runCmd(args...)
			if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, file) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 and one line naming the file", args, code, stdout, stderr)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"a.png", "garbage.onnx", "m.safetensors"}; !slices.Equal(names, want) {
		t.Errorf("files left: %v, want %v", names, want)
	}
}

// TestExportOverwritesWhole: exporting over an existing file replaces it,
// and the new file is a model evaluate reads.
func TestExportOverwritesWhole(t *testing.T) {
	dir := t.TempDir()
	good, _ := savedModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("export", "-model", good, "-o", out); code != 0 {
		t.Fatalf("export: exit %d, %q", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || len(b) < 1000 {
		t.Fatalf("%s: %d bytes, %v", out, len(b), err)
	}
	// Exported again from the .onnx itself: the same bytes.
	again := filepath.Join(dir, "again.onnx")
	if code, _, stderr := runCmd("export", "-model", out, "-o", again); code != 0 {
		t.Fatalf("export of the .onnx: exit %d, %q", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if string(a) != string(b) {
		t.Errorf("exporting the exported file changed it: %d and %d bytes", len(a), len(b))
	}
}
