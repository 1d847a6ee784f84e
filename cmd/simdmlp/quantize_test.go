package main

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// TestQuantizeThenEvaluate: a trained model quantized with `simdmlp
// quantize` and evaluated from the int8 file scores close to the model
// (a softmax output, and a linear one evaluated from logits); -json holds
// what the text says.
func TestQuantizeThenEvaluate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains two models; the native run covers it")
	}
	for _, c := range []struct{ name, last, loss string }{
		{"softmax", "softmax", mlp.SparseCategoricalCrossentropy},
		{"logits", "linear", mlp.SparseCategoricalCrossentropyFromLogits},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := filepath.Join(dir, "m.safetensors")
			trainedModel(t, st, c.last, c.loss)
			q := filepath.Join(dir, "q.safetensors")
			code, stdout, stderr := runCmd("quantize", "-model", st, "-o", q)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "quantized to int8: "+q) {
				t.Fatalf("quantize: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			var reports [2]evalReport
			for i, model := range []string{st, q} {
				js := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
				code, out, stderr := runCmd("evaluate", "-model", model, "-json", js)
				if code != 0 {
					t.Fatalf("evaluate %s: exit %d, stderr %q", model, code, stderr)
				}
				reports[i] = readEvalJSON(t, js)
				m := evalLine.FindStringSubmatch(out)
				if r := reports[i]; m == nil || m[2] != fmt.Sprintf("%.4f", r.Loss) || m[3] != fmt.Sprintf("%.4f", r.Accuracy) || r.Samples != 10000 {
					t.Errorf("evaluate %s: -json %+v, text:\n%s", model, r, out)
				}
				if int8 := strings.Contains(out, "(int8)"); int8 != (i == 1) {
					t.Errorf("evaluate %s: says int8 %v:\n%s", model, int8, out)
				}
				if logits := strings.Contains(out, "outputs are logits"); logits != (c.last == "linear") {
					t.Errorf("evaluate %s: says logits %v for a %s output:\n%s", model, logits, c.last, out)
				}
			}
			f, i8 := reports[0], reports[1]
			t.Logf("%s: float32 loss %.4f accuracy %.4f, int8 loss %.4f accuracy %.4f", c.name, f.Loss, f.Accuracy, i8.Loss, i8.Accuracy)
			if f.Accuracy < 0.7 || math.Abs(f.Accuracy-i8.Accuracy) > 0.005 || math.Abs(f.Loss-i8.Loss) > 0.01 {
				t.Errorf("float32 %+v, int8 %+v: too far apart", f, i8)
			}
		})
	}
}

// TestScoreOutputs holds evaluate's scores of an int8 predictor to
// mlp's Evaluate on the same outputs: scoreOutputs on a float32 model's
// own predictions must give Evaluate's loss and accuracy.
func TestScoreOutputs(t *testing.T) {
	test := needData(t)
	for _, c := range []struct{ last, loss string }{
		{"softmax", mlp.SparseCategoricalCrossentropy},
		{"linear", mlp.SparseCategoricalCrossentropyFromLogits},
	} {
		mlp.SetRandomSeed(5)
		m := mlp.NewSequential("", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(16, "relu"), mlp.Dense(10, c.last))
		if err := m.Compile(nil, c.loss, "accuracy"); err != nil {
			t.Fatal(err)
		}
		n := 2000
		x, y := test.Scaled()[:n*pixels], test.Labels[:n]
		out := make([]float32, n*10)
		if err := m.Predict(x, out); err != nil {
			t.Fatal(err)
		}
		want, err := m.EvaluateWith(x, y, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
		if err != nil {
			t.Fatal(err)
		}
		got := scoreOutputs(out, y, c.last == "linear")
		if math.Abs(got.Loss-want.Loss) > 1e-5*want.Loss || got.Accuracy != want.Accuracy {
			t.Errorf("%s: scoreOutputs %+v, Evaluate %+v", c.last, got, want)
		}
	}
}

// TestQuantizedPredictAndShow runs predict and show on an int8 file.
func TestQuantizedPredictAndShow(t *testing.T) {
	dir := t.TempDir()
	model, _ := savedModel(t, dir)
	q := filepath.Join(dir, "q.safetensors")
	if code, _, stderr := runCmd("quantize", "-model", model, "-o", q); code != 0 {
		t.Fatalf("quantize: exit %d, %s", code, stderr)
	}
	p, err := mlp.LoadPredictor(q)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 9))
	gray := image.NewGray(image.Rect(0, 0, 28, 28))
	x := make([]float32, pixels)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(r.IntN(256))
		x[i] = float32(gray.Pix[i]) / 255
	}
	want := make([]float32, 10)
	if err := p.PredictOne(x, want); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "x.png")
	writePNG(t, img, gray)
	code, stdout, stderr := runCmd("predict", "-model", q, img)
	if code != 0 || stdout != img+": "+formatTop3(want, true)+"\n" {
		t.Fatalf("predict: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, formatTop3(want, true))
	}
	if test := needData(t); test != nil {
		grid := filepath.Join(dir, "grid.png")
		if code, stdout, stderr := runCmd("show", "-model", q, "-n", "9", grid); code != 0 || !strings.Contains(stdout, "9 test images drawn") {
			t.Fatalf("show: exit %d, %q, %q", code, stdout, stderr)
		}
		checkPNG(t, grid, 100)
	}
}

func TestQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	model, _ := savedModel(t, dir)
	q := filepath.Join(dir, "q.safetensors")
	if code, _, stderr := runCmd("quantize", "-model", model, "-o", q); code != 0 {
		t.Fatalf("quantize: exit %d, %s", code, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-o", q}, 2, "-model is required"},
		{[]string{"-model", model}, 2, "-o is required"},
		{[]string{"-model", model, "-o", filepath.Join(dir, "q.onnx")}, 2, "not ONNX"},
		{[]string{"-model", model, "-o", filepath.Join(dir, "q.h5")}, 1, "Keras format"},
		{[]string{"-model", q, "-o", filepath.Join(dir, "q2.safetensors")}, 1, "already an int8 predictor file"},
		{[]string{"-model", filepath.Join(dir, "none.safetensors"), "-o", filepath.Join(dir, "q3.safetensors")}, 1, "none.safetensors"},
		{[]string{"-model", model, "-o", q, "extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, stderr := runCmd(append([]string{"quantize"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("quantize %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	// export refuses an int8 file, naming it.
	if code, _, stderr := runCmd("export", "-model", q, "-o", filepath.Join(dir, "x.onnx")); code != 1 || !strings.Contains(stderr, "int8 predictor file") {
		t.Errorf("export of an int8 file: exit %d, %q", code, stderr)
	}
}
