package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
)

func TestTrainThreadsFlag(t *testing.T) {
	c, err := parseTrainFlags([]string{"-threads", "2"}, os.Stderr)
	if err != nil || c.threads != 2 {
		t.Fatalf("-threads 2: threads = %d, err %v", c.threads, err)
	}
	if c, err := parseTrainFlags(nil, os.Stderr); err != nil || c.threads != 0 {
		t.Fatalf("default: threads = %d, err %v; want 0 (the kernels' default)", c.threads, err)
	}
	code, _, stderr := runCmd("train", "-threads", "-1")
	if code != 2 || !strings.Contains(stderr, "-threads -1") {
		t.Errorf("-threads -1: exit %d, stderr %q", code, stderr)
	}
}

// TestTrainThreadsReported trains briefly with -threads 3 and checks that
// the kernels line and the JSON report name the count, and that the
// process-wide setting is restored afterwards.
func TestTrainThreadsReported(t *testing.T) {
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	before := kernels.Threads()
	path := filepath.Join(t.TempDir(), "out.json")
	code, stdout, stderr := runCmd("train", "-epochs", "1", "-limit", "640", "-batch", "256", "-verbose", "0",
		"-threads", "3", "-json", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "), threads: 3\n") || !strings.Contains(stdout, ", 3 threads)") {
		t.Errorf("output does not report 3 threads:\n%s", stdout)
	}
	var r report
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("JSON %s: %v", b, err)
	}
	if r.Threads != 3 {
		t.Errorf("report threads = %d, want 3", r.Threads)
	}
	if got := kernels.Threads(); got != before {
		t.Errorf("kernels.Threads() = %d after the run, %d before", got, before)
	}
}

// TestTrainDropoutFlag: -dropout puts a Dropout after each hidden layer,
// kept in the saved model; a rate outside [0, 1) is a usage error.
func TestTrainDropoutFlag(t *testing.T) {
	code, _, stderr := runCmd("train", "-dropout", "1.5")
	if code != 2 || !strings.Contains(stderr, "-dropout 1.5") {
		t.Errorf("-dropout 1.5: exit %d, stderr %q", code, stderr)
	}
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	code, _, stderr = runCmd("train", "-epochs", "1", "-limit", "640", "-verbose", "0", "-hidden", "50,20", "-dropout", "0.3", "-save", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	m, err := mlp.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, l := range m.Layers() {
		classes = append(classes, l.ClassName())
		if l.ClassName() == "Dropout" && l.Rate() != 0.3 {
			t.Errorf("%s rate %v", l.Name(), l.Rate())
		}
	}
	if got := strings.Join(classes, " "); got != "Flatten Dense Dropout Dense Dropout Dense" {
		t.Errorf("layers %s", got)
	}
}

// TestTrainCallbackFlags: -checkpoint, -csv and -patience run Keras's
// callbacks with validation after every epoch.
func TestTrainCallbackFlags(t *testing.T) {
	code, _, stderr := runCmd("train", "-patience", "-2")
	if code != 2 || !strings.Contains(stderr, "-patience -2") {
		t.Errorf("-patience -2: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{"-checkpoint", "m.safetensors", "-save", "m.safetensors"}, {"-csv", "r.json", "-json", "r.json"}} {
		code, _, stderr := runCmd(append([]string{"train"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "both name") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	dir := t.TempDir()
	best, logPath, rep := filepath.Join(dir, "best.safetensors"), filepath.Join(dir, "log.csv"), filepath.Join(dir, "r.json")
	code, stdout, stderr := runCmd("train", "-epochs", "3", "-limit", "640", "-verbose", "0", "-patience", "5",
		"-checkpoint", best, "-csv", logPath, "-json", rep)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	if len(rows) != 4 || rows[0] != "epoch,accuracy,loss,val_accuracy,val_loss" || !strings.HasPrefix(rows[3], "2,") {
		t.Errorf("CSV log:\n%s", b)
	}
	m, err := mlp.Load(best)
	if err != nil || m.Optimizer() == nil {
		t.Errorf("checkpoint: %v (compiled: %v)", err, err == nil && m.Optimizer() != nil)
	}
	var r report
	if b, err := os.ReadFile(rep); err != nil || json.Unmarshal(b, &r) != nil || r.Epochs != 3 {
		t.Errorf("report %+v, %v", r, err)
	}
}
