package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mnist"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: simdmlp"},
		{[]string{"fly"}, `unknown command "fly"`},
		{[]string{"train", "-nosuchflag"}, "flag provided but not defined"},
		{[]string{"train", "-epochs", "x"}, "invalid value"},
		{[]string{"train", "-epochs", "0"}, "-epochs 0"},
		{[]string{"train", "-batch", "-1"}, "-batch -1"},
		{[]string{"train", "-hidden", "100,,50"}, "-hidden"},
		{[]string{"train", "-hidden", "0"}, "-hidden"},
		{[]string{"train", "-activation", "swish"}, "-activation"},
		{[]string{"train", "-optimizer", "nadam"}, "not implemented"},
		{[]string{"train", "-optimizer", "foo"}, "unknown optimizer"},
		{[]string{"train", "-lr", "-0.1"}, "-lr"},
		{[]string{"train", "-verbose", "3"}, "-verbose 3"},
		{[]string{"train", "-kernels", "avx1024"}, "-kernels"},
		{[]string{"train", "extra"}, "unexpected argument"},
		{[]string{"tutorial", "-verbose", "7"}, "bad arguments"},
	} {
		code, _, stderr := runCmd(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if code, stdout, _ := runCmd("help"); code != 0 || !strings.Contains(stdout, "train") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
	if code, _, stderr := runCmd("train", "-h"); code != 0 || !strings.Contains(stderr, "-hidden") {
		t.Errorf("train -h: exit %d, %q", code, stderr)
	}
}

func TestMissingAndCorruptData(t *testing.T) {
	empty := t.TempDir()
	code, stdout, stderr := runCmd("train", "-data", empty)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "not available") ||
		!strings.Contains(stderr, "dataset-fashion-mnist") {
		t.Errorf("missing data: exit %d, stderr %q", code, stderr)
	}
	if stdout != "" {
		t.Errorf("missing data: stdout %q", stdout)
	}
	bad := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if err := os.WriteFile(filepath.Join(bad, f), []byte("not an idx file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr = runCmd("train", "-data", bad)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "damaged") {
		t.Errorf("corrupt data: exit %d, stderr %q", code, stderr)
	}
}

func TestWriteJSONAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(path, report{Epochs: 3, Kernels: "generic", ValAccuracy: 0.5}); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &r); err != nil || r["epochs"] != 3.0 || r["val_accuracy"] != 0.5 {
		t.Errorf("JSON %s (%v)", b, err)
	}
	for _, k := range []string{"val_loss", "val_accuracy", "test_loss", "test_accuracy", "train_seconds", "epochs", "kernels"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if err := writeJSON(filepath.Join(dir, "no", "such", "dir.json"), report{}); err == nil {
		t.Error("writing into a missing directory: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestShortRealRun trains one epoch on 3200 samples of the real data and
// checks the output and the JSON report.
func TestShortRealRun(t *testing.T) {
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		if errors.Is(err, mnist.ErrNotFound) && testing.Short() {
			t.Skip(err)
		}
		if errors.Is(err, mnist.ErrNotFound) {
			t.Skipf("Fashion-MNIST not installed: %v", err)
		}
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.json")
	code, stdout, stderr := runCmd("train", "-epochs", "1", "-limit", "3200", "-verbose", "2", "-hidden", "64,32",
		"-optimizer", "RMSprop", "-lr", "0.002", "-json", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"kernels: ", `Model: "sequential`, "(None, 64)", "(None, 32)",
		"RMSprop(learning_rate=0.002", "100/100 - ", "375/375 - ", "test accuracy: ", "training time: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	var r report
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("JSON %s: %v", b, err)
	}
	if r.Epochs != 1 || r.Kernels == "" || r.TrainSeconds <= 0 || r.ValAccuracy < 0.6 || r.TestAccuracy < 0.6 {
		t.Errorf("report %+v", r)
	}
}

// TestTutorialReplay runs the notebook replay on a slice of the real data
// and checks Keras's names in the order the notebook creates them, and the
// outputs of the training cells.
func TestTutorialReplay(t *testing.T) {
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	code, stdout, stderr := runCmd("tutorial", "-epochs", "2", "-limit", "640", "-verbose", "2")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	at := 0
	for _, want := range []string{
		`Model: "sequential"`, " dense (Dense) ", " dense_1 (Dense) ",
		`Model: "패션 MNIST 모델"`, " hidden (Dense) ", " output (Dense) ",
		`Model: "sequential_1"`, " dense_2 (Dense) ", "Epoch 1/2", "20/20 - ", "<mlp.History [loss accuracy]>",
		"375/375 - ", "\n[", `Model: "sequential_2"`, " flatten (Flatten) ", " dense_4 (Dense) ",
		"In [18]:", "Epoch 2/2", "<mlp.History [loss accuracy]>", "In [19]:", "In [20]:",
		"In [21]:", "Epoch 2/2", "375/375 - ", "\n[",
	} {
		i := strings.Index(stdout[at:], want)
		if i < 0 {
			t.Fatalf("output lacks %q after offset %d:\n%s", want, at, stdout)
		}
		at += i + len(want)
	}
}
