package main

// Regression tests for what a careless or hostile user can type: numbers
// that cannot be honoured, outputs that cannot be written, models and
// images that would mislead or exhaust the machine.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/internal/heap"
	"github.com/simdmlp/simdmlp/mlp"
)

// Faults found from the flags alone are usage errors, before any work.
func TestTrainFlagFaults(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "x.png")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-lr", "NaN"}, "-lr NaN: want a finite number ≥ 0"},
		{[]string{"-lr", "+Inf"}, "-lr +Inf: want a finite number ≥ 0"},
		{[]string{"-lr", "-0.5"}, "-lr -0.5: want a finite number ≥ 0"},
		{[]string{"-save", same, "-plot", same}, "-save and -plot both name"},
		{[]string{"-json", filepath.Join(dir, "r"), "-save", filepath.Join(dir, ".", "r")}, "-save and -json both name"},
	} {
		code, stdout, stderr := runCmd(append([]string{"train"}, c.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("train %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	// Two names of one file, through a symbolic link.
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(real, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("train", "-json", real, "-save", link); code != 2 || !strings.Contains(stderr, "name the same file") {
		t.Errorf("-json and -save through a link: exit %d, %q", code, stderr)
	}
}

// Outputs that cannot be written fail before the data are read or a model
// is trained. -data names a directory without the data, so a run that got
// past the checks would fail on the data instead.
func TestTrainUnwritableOutputs(t *testing.T) {
	dir := t.TempDir()
	noData := filepath.Join(dir, "nodata")
	if err := os.Mkdir(noData, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		dir:                                  "is a directory",
		filepath.Join(dir, "no", "m.png"):    "no such file or directory",
		filepath.Join(noData, "sub", "x"):    "no such file or directory",
		filepath.Join(dir, "f.png", "x.png"): "not a directory",
	}
	if err := os.WriteFile(filepath.Join(dir, "f.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		cases["/dev/null"] = "not a regular file"
		cases["/proc/self/simdmlp.png"] = "cannot write /proc/self/simdmlp.png"
	}
	for path, want := range cases {
		for _, flag := range []string{"-save", "-plot", "-json"} {
			if flag == "-plot" && !strings.HasSuffix(path, ".png") {
				continue
			}
			code, stdout, stderr := runCmd("train", "-data", noData, flag, path)
			if code != 1 || stdout != "" || !strings.Contains(stderr, want) || strings.Contains(stderr, "Fashion") {
				t.Errorf("train %s %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", flag, path, code, stdout, stderr, want)
			}
		}
	}
	src, _ := savedModel(t, dir)
	for _, args := range [][]string{
		{"evaluate", "-model", src, "-data", noData, "-confusion", dir + "/missing/c.png"},
		{"show", "-model", src, "-data", noData, dir + "/missing/g.png"},
	} {
		code, _, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, "no such file or directory") || strings.Contains(stderr, "Fashion") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 { // nodata, f.png, m.safetensors
		t.Errorf("the checks left files: %v", entries)
	}
}

// A model too large for the machine is refused before anything is
// allocated for it and before the data are read.
func TestTrainModelTooLarge(t *testing.T) {
	noData := t.TempDir()
	var code int
	var stdout, stderr string
	alloc := heap.Allocated(func() { code, stdout, stderr = runCmd("train", "-data", noData, "-hidden", "1000000,1000000") })
	if code != 1 || stdout != "" || !strings.Contains(stderr, "too large") {
		t.Errorf("-hidden 1000000,1000000: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if alloc > 64<<20 {
		t.Errorf("the refused model allocated %d bytes first", alloc)
	}
}

// Epoch and batch counts of any size: the first is refused before the
// first epoch when its steps cannot be counted; the second is one batch.
func TestTrainHugeCounts(t *testing.T) {
	needData(t)
	code, stdout, stderr := runCmd("train", "-limit", "64", "-verbose", "2", "-epochs", "9223372036854775807")
	if code != 1 || !strings.Contains(stderr, "MaxIterations") || strings.Contains(stdout, "Epoch 1/") {
		t.Errorf("-epochs 2⁶³−1: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = runCmd("train", "-limit", "100", "-epochs", "1", "-batch", "9223372036854775807")
	if code != 0 || !strings.Contains(stdout, "1/1 [") {
		t.Errorf("-batch 2⁶³−1: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
}

// A diverged run says so, and does not replace a good model file.
func TestTrainDivergedKeepsFile(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	model, _ := savedModel(t, dir)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd("train", "-limit", "512", "-epochs", "1", "-verbose", "0",
		"-optimizer", "sgd", "-lr", "1e20", "-save", model)
	if code != 1 || !strings.Contains(stderr, "the run diverged") {
		t.Errorf("lr 1e20: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(model); !bytes.Equal(b, good) {
		t.Error("the diverged run replaced the model file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// A model whose outputs are neither probabilities nor logits: predict
// calls the numbers scores, evaluate refuses it before reading the data.
// A linear output is logits: predict shows their softmax and says so.
func TestNotSoftmaxModel(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "x.png")
	writePNG(t, img, grayImage(28, 28))
	m := mlp.NewSequential("scores", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(10, "sigmoid"))
	p := filepath.Join(dir, "scores.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("predict", "-model", p, img)
	if code != 0 || !strings.Contains(stdout, "is sigmoid, not softmax: the numbers are scores, not probabilities") ||
		!strings.Contains(stdout, img+": ") || strings.Count(stdout, " score ") != 3 {
		t.Errorf("predict: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = runCmd("evaluate", "-model", p, "-data", filepath.Join(dir, "nodata"))
	if code != 1 || stdout != "" || !strings.Contains(stderr, "activation is sigmoid") || strings.Contains(stderr, "Fashion") {
		t.Errorf("evaluate: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	m = mlp.NewSequential("logits", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(10, "linear"))
	p = filepath.Join(dir, "logits.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCmd("predict", "-model", p, img)
	if code != 0 || !strings.Contains(stdout, "is linear: its outputs are logits, and the probabilities below are their softmax") ||
		strings.Contains(stdout, "score") {
		t.Errorf("predict: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
}

// Images are sized from their headers before they are decoded; files that
// are not regular files are refused rather than waited on.
func TestPredictHostileImages(t *testing.T) {
	dir := t.TempDir()
	model, _ := savedModel(t, dir)
	huge := filepath.Join(dir, "huge.png")
	if err := os.WriteFile(huge, pngHeader(20000, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	var code int
	var stderr string
	alloc := heap.Allocated(func() { code, _, stderr = runCmd("predict", "-model", model, huge) })
	if code != 1 || !strings.Contains(stderr, "20000×20000 pixels is too large") {
		t.Errorf("20000×20000 PNG: exit %d, stderr %q", code, stderr)
	}
	if alloc > 16<<20 {
		t.Errorf("the refused image allocated %d bytes", alloc)
	}
	// Just inside the bound, the header is accepted and the missing
	// pixels are the error.
	ok := filepath.Join(dir, "ok.png")
	if err := os.WriteFile(ok, pngHeader(4096, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("predict", "-model", model, ok); code != 1 || strings.Contains(stderr, "too large") {
		t.Errorf("4096×4096 header: exit %d, stderr %q", code, stderr)
	}
	if runtime.GOOS == "linux" {
		fifo := filepath.Join(dir, "pipe.png")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		// Opening a FIFO for reading blocks until a writer comes, and
		// reading it until the writer closes. The writer here closes
		// after two seconds without writing, so that a predict that
		// opens or reads it fails the test rather than hanging it.
		go func() {
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				time.Sleep(2 * time.Second)
				f.Close()
			}
		}()
		t.Cleanup(func() {
			// Lets the writer's open return if predict never opened it.
			if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		})
		if code, _, stderr := runCmd("predict", "-model", model, fifo); code != 1 || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("FIFO: exit %d, stderr %q", code, stderr)
		}
	}
}

func grayImage(w, h int) image.Image { return image.NewGray(image.Rect(0, 0, w, h)) }

// pngHeader returns the start of a PNG file: the signature and an IHDR
// chunk for a w×h 8-bit gray image, with no pixel data.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}
