package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
)

// savedModel writes a Fashion-MNIST-shaped model with random weights and
// returns its path and the model.
func savedModel(t *testing.T, dir string) (string, *mlp.Sequential) {
	t.Helper()
	mlp.SetRandomSeed(5)
	m := mlp.NewSequential("cmdtest", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(16, "relu"), mlp.Dense(10, "softmax"))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	return p, m
}

func needData(t *testing.T) *mnist.Dataset {
	t.Helper()
	_, test, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true})
	if err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	return test
}

func TestInspectUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"evaluate"}, "-model is required"},
		{[]string{"evaluate", "-model", "m", "extra"}, "unexpected argument"},
		{[]string{"evaluate", "-model", "m", "-confusion", "c.jpg"}, "ending in .png"},
		{[]string{"evaluate", "-bogus"}, "flag provided but not defined"},
		{[]string{"predict", "a.png"}, "-model is required"},
		{[]string{"predict", "-model", "m"}, "no image files"},
		{[]string{"show", "-model", "m"}, "want one output file name"},
		{[]string{"show", "-model", "m", "a.png", "b.png"}, "want one output file name"},
		{[]string{"show", "-model", "m", "-n", "0", "g.png"}, "-n 0"},
		{[]string{"show", "-model", "m", "-n", "x", "g.png"}, "invalid value"},
		{[]string{"show", "-model", "m", "g.gif"}, "ending in .png"},
		{[]string{"show", "g.png"}, "-model is required"},
		{[]string{"train", "--plot", "h.svg"}, "ending in .png"},
	} {
		code, stdout, stderr := runCmd(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "-h") && !strings.Contains(stderr, "usage") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q", c.args, stdout)
		}
	}
	for _, cmd := range []string{"evaluate", "predict", "show"} {
		if code, _, stderr := runCmd(cmd, "-h"); code != 0 || !strings.Contains(stderr, "-model") {
			t.Errorf("%s -h: exit %d, %q", cmd, code, stderr)
		}
	}
}

// TestBadModelFiles: a missing, corrupt or wrongly shaped model file gives
// one line naming it and exit status 1, for every command that reads one.
func TestBadModelFiles(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}         "), 0o644); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(dir, "wrong.safetensors")
	m := mlp.NewSequential("w", mlp.Dense(3, "softmax", mlp.InputShape(5)))
	if err := m.Save(wrong); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, image.NewGray(image.Rect(0, 0, 28, 28)))
	for _, c := range []struct {
		file, want string
	}{
		{filepath.Join(dir, "none.safetensors"), "no such file"},
		{corrupt, `tensor "a": bad entry`},
		{wrong, "takes 5 inputs and gives 3 outputs"},
	} {
		for _, args := range [][]string{
			{"evaluate", "-model", c.file},
			{"predict", "-model", c.file, img},
			{"show", "-model", c.file, filepath.Join(dir, "g.png")},
		} {
			code, stdout, stderr := runCmd(args...)
			if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.file) || !strings.Contains(stderr, c.want) {
				t.Errorf("%q: exit %d, stderr %q; want 1 and one line with the file and %q", args, code, stderr, c.want)
			}
			if stdout != "" {
				t.Errorf("%q: stdout %q", args, stdout)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "g.png")); err == nil {
		t.Error("show wrote a picture for a bad model")
	}
	// A good model without the data set: one line, exit 1.
	good, _ := savedModel(t, dir)
	for _, args := range [][]string{
		{"evaluate", "-model", good, "-data", t.TempDir()},
		{"show", "-model", good, "-data", t.TempDir(), filepath.Join(dir, "g.png")},
	} {
		code, _, stderr := runCmd(args...)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "not available") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPredictCommand(t *testing.T) {
	dir := t.TempDir()
	model, m := savedModel(t, dir)
	r := rand.New(rand.NewPCG(8, 9))
	gray := image.NewGray(image.Rect(0, 0, 28, 28))
	x := make([]float32, pixels)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(r.IntN(256))
		x[i] = float32(gray.Pix[i]) / 255
	}
	want := make([]float32, 10)
	if err := m.Predict(x, want); err != nil {
		t.Fatal(err)
	}
	grayPath := filepath.Join(dir, "gray.png")
	writePNG(t, grayPath, gray)
	// A colour image twice the size: every 2×2 block one gray level, so
	// that resizing and converting give the same image back closely.
	rgba := image.NewRGBA(image.Rect(0, 0, 56, 56))
	for y := range 56 {
		for xx := range 56 {
			v := gray.GrayAt(xx/2, y/2).Y
			rgba.Set(xx, y, color.RGBA{v, v, v, 255})
		}
	}
	bigPath := filepath.Join(dir, "big.png")
	writePNG(t, bigPath, rgba)
	jpgPath := filepath.Join(dir, "photo.jpg")
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, gray, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jpgPath, jb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	textPath := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(textPath, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCmd("predict", "-model", model, grayPath)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if line := grayPath + ": " + formatTop3(want, true) + "\n"; stdout != line {
		t.Errorf("output %q, want %q", stdout, line)
	}
	// The top class is the argmax of the model's own prediction.
	best := 0
	for c, p := range want {
		if p > want[best] {
			best = c
		}
	}
	if !strings.HasPrefix(strings.TrimPrefix(stdout, grayPath+": "), fmt.Sprintf("%d %s ", best, mnist.FashionClasses[best])) {
		t.Errorf("output %q does not start with class %d", stdout, best)
	}

	missing := filepath.Join(dir, "missing.png")
	code, stdout, stderr = runCmd("predict", "--model", model, bigPath, textPath, jpgPath, missing)
	if code != 1 {
		t.Errorf("exit %d with bad files, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], bigPath+" (converted to gray, resized from 56×56): ") ||
		!strings.HasPrefix(lines[1], jpgPath+" (read as jpeg): ") {
		t.Errorf("output %q", stdout)
	}
	errs := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(errs) != 2 || !strings.Contains(errs[0], textPath+": not a PNG, JPEG or GIF image") || !strings.Contains(errs[1], missing) {
		t.Errorf("stderr %q", stderr)
	}
	// The resized copy predicts the same best class (CatmullRom on 2×2
	// blocks comes back close to the original).
	if len(lines) > 0 && !strings.Contains(lines[0], fmt.Sprintf(": %d %s ", best, mnist.FashionClasses[best])) {
		t.Errorf("resized image: %q, want best class %d", lines[0], best)
	}
}

func TestEvaluateCommand(t *testing.T) {
	test := needData(t)
	dir := t.TempDir()
	model, m := savedModel(t, dir)
	if err := m.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	sc, err := m.EvaluateWith(test.Scaled(), test.Labels, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf.png")
	code, stdout, stderr := runCmd("evaluate", "-model", model, "-confusion", conf)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		fmt.Sprintf("test set: 10000 images; loss %.4f, accuracy %.4f\n", sc.Loss, sc.Accuracy),
		"accuracy per class:\n  0 T-shirt/top ", "  9 Ankle boot ",
		"confusion matrix (rows: true class, columns: predicted class):", "drawn in " + conf,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Each per-class line counts 1000 samples, and the matrix's rows sum
	// to 1000 with the diagonal giving the accuracy.
	correct := 0
	for c := range 10 {
		var acc float64
		var hit, total int
		line := stdout[strings.Index(stdout, fmt.Sprintf("  %d %-12s ", c, mnist.FashionClasses[c])):]
		if _, err := fmt.Sscanf(line[len(fmt.Sprintf("  %d %-12s ", c, mnist.FashionClasses[c])):], "%f  (%d/%d)", &acc, &hit, &total); err != nil || total != 1000 {
			t.Errorf("class %d line %.40q: %v", c, line, err)
		}
		correct += hit
	}
	if got := float64(correct) / 10000; fmt.Sprintf("%.4f", got) != fmt.Sprintf("%.4f", sc.Accuracy) {
		t.Errorf("per-class hits give accuracy %.4f, Evaluate %.4f", got, sc.Accuracy)
	}
	checkPNG(t, conf, 300)
}

func checkPNG(t *testing.T, path string, minSize int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < minSize || b.Dy() < minSize {
		t.Errorf("%s is %v", path, b)
	}
	return img
}

func TestShowCommand(t *testing.T) {
	test := needData(t)
	dir := t.TempDir()
	model, m := savedModel(t, dir)
	probs := make([]float32, 30*10)
	if err := m.Predict(test.Scaled()[:30*pixels], probs); err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i := range 30 {
		if argmax(probs[i*10:(i+1)*10]) != int(test.Labels[i]) {
			wrong++
		}
	}
	grid := filepath.Join(dir, "grid.png")
	code, stdout, stderr := runCmd("show", "-model", model, "-n", "30", grid)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if want := fmt.Sprintf("30 test images drawn in %s; %d predicted wrongly\n", grid, wrong); stdout != want {
		t.Errorf("output %q, want %q", stdout, want)
	}
	img := checkPNG(t, grid, 600)
	if b := img.Bounds(); b.Dx() < 6*124 {
		t.Errorf("a 30-image grid is %v, want 6 columns", b)
	}
	if code, _, stderr := runCmd("show", "-model", model, filepath.Join(dir, "no", "g.png")); code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("missing output directory: exit %d, %q", code, stderr)
	}
}

// TestTrainSaveAndPlot trains briefly with -save and -plot, then checks
// the saved model reproduces the reported test accuracy and the curves
// are a picture.
func TestTrainSaveAndPlot(t *testing.T) {
	test := needData(t)
	dir := t.TempDir()
	model, plot := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "h.png")
	code, stdout, stderr := runCmd("train", "--epochs", "2", "--limit", "1280", "--verbose", "2", "--hidden", "32",
		"--save", model, "--plot", plot)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"val_loss: ", "model saved to " + model, "training curves drawn in " + plot} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m, err := mlp.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	sc, err := m.EvaluateWith(test.Scaled(), test.Labels, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("test accuracy: %.4f (loss %.4f)", sc.Accuracy, sc.Loss); !strings.Contains(stdout, want) {
		t.Errorf("the saved model gives %q, not in the output:\n%s", want, stdout)
	}
	img := checkPNG(t, plot, 300)
	if b := img.Bounds(); b.Dx() <= b.Dy() {
		t.Errorf("plot is %v, want two panels side by side", b)
	}

	code, _, stderr = runCmd("train", "--epochs", "1", "--save", filepath.Join(dir, "missing", "m.safetensors"))
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "missing") {
		t.Errorf("save into a missing directory: exit %d, stderr %q", code, stderr)
	}
}
