package mlp

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCheckpointEveryEpoch: a Path with fields names one file per epoch,
// in a directory the callback creates, and each holds that epoch's model
// with its compile state.
func TestCheckpointEveryEpoch(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "runs", "a")
	var out strings.Builder
	ck := &ModelCheckpoint{Path: sub + "/{epoch:02d}-{val_loss:.2f}.safetensors", Verbose: true}
	m := overfitModel(t)
	x, y, val := overfitData()
	var snaps [][][]float32
	keep := EpochEndFunc(func(tr *Training, _ int, _ Logs) error {
		snaps = append(snaps, tr.Weights())
		return nil
	})
	h, err := m.Fit(x, y, FitConfig{Epochs: 4, BatchSize: overfitBatch, Verbose: VerboseSilent, Seed: 9,
		ValidationData: val, Out: &out, Callbacks: []Callback{keep, ck}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var want strings.Builder
	for e, v := range h.History["val_loss"] {
		name := fmt.Sprintf("%02d-%.2f.safetensors", e+1, v)
		names = append(names, name)
		fmt.Fprintf(&want, "\nEpoch %d: saving model to %s\n", e+1, filepath.Join(sub, name))
		loaded, err := Load(filepath.Join(sub, name))
		if err != nil {
			t.Fatal(err)
		}
		if loaded.Optimizer() == nil {
			t.Errorf("%s loads uncompiled", name)
		}
		weightsEqual(t, name, loaded.Weights(), snaps[e])
	}
	onlyFiles(t, sub, names...)
	if out.String() != want.String() {
		t.Errorf("output %q, want %q", out.String(), want.String())
	}
}

// TestCheckpointWeightsOnly: SaveWeightsOnly files hold no compile state:
// Load returns them uncompiled, and LoadWeights reads them into a model
// built again by the same code.
func TestCheckpointWeightsOnly(t *testing.T) {
	dir := t.TempDir()
	ck := &ModelCheckpoint{Path: dir + "/w{epoch}.safetensors", SaveWeightsOnly: true, Monitor: "val_accuracy", SaveBestOnly: true}
	_, h, snaps, err := overfitFit(t, true, ck)
	if err != nil {
		t.Fatal(err)
	}
	// val_accuracy is watched for a maximum ("acc" is in the name) and
	// saved only when it strictly improves.
	var names []string
	var last int
	best := -1.0
	for e, v := range h.History["val_accuracy"] {
		if v > best {
			best, last = v, e
			names = append(names, fmt.Sprintf("w%d.safetensors", e+1))
		}
	}
	if len(names) < 2 || ck.Best() != best {
		t.Fatalf("saved %v with best %v; the run should improve at least twice, to %v", names, ck.Best(), best)
	}
	onlyFiles(t, dir, slices.Sorted(slices.Values(names))...)
	path := filepath.Join(dir, names[len(names)-1])
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Optimizer() != nil {
		t.Error("a SaveWeightsOnly file loads compiled")
	}
	fresh := overfitModel(t)
	if err := fresh.LoadWeights(path); err != nil {
		t.Fatal(err)
	}
	weightsEqual(t, "LoadWeights", fresh.Weights(), snaps[last])
}

// TestCheckpointKerasPathBeforeTraining: a name Save refuses is an error
// before the first epoch when its ending does not depend on the fields.
func TestCheckpointKerasPathBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"model.h5", "best.KERAS", "{epoch:02d}-{val_loss:.2f}.hdf5", "m{{x}}.h5"} {
		ck := &ModelCheckpoint{Path: filepath.Join(dir, p)}
		h, err := overfitFitEpochs(t, 3, ck)
		if err == nil || !strings.Contains(err.Error(), "Keras format") || len(h.Epoch) != 0 {
			t.Errorf("%s: %v after %d epochs; want an error before training", p, err, len(h.Epoch))
		}
	}
	onlyFiles(t, dir)
}

// TestCheckpointPathErrors: a malformed Path is an error before training;
// a name the logs lack is an error at the first epoch's end, as Keras's
// KeyError.
func TestCheckpointPathErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path, want string
		epochs     int
	}{
		{"{epoch", "expected '}'", 0},
		{"{0}.safetensors", "positional", 0},
		{"", "Path is empty", 0},
		{"{val_los:.2f}.safetensors", `no value named "val_los"`, 1},
		{"{val_loss:d}.safetensors", "unknown format code 'd'", 1},
	} {
		p := c.path
		if p != "" {
			p = filepath.Join(dir, p)
		}
		h, err := overfitFitEpochs(t, 3, &ModelCheckpoint{Path: p})
		if err == nil || !strings.Contains(err.Error(), c.want) || len(h.Epoch) != c.epochs {
			t.Errorf("%q: %v after %d epochs; want %q after %d", c.path, err, len(h.Epoch), c.want, c.epochs)
		}
	}
	onlyFiles(t, dir)
}

// TestCheckpointBestCarriesOver: as Keras's, whose best is set when the
// callback is made, a second Fit saves only what beats the first's best.
func TestCheckpointBestCarriesOver(t *testing.T) {
	dir := t.TempDir()
	ck := &ModelCheckpoint{Path: dir + "/{epoch}.safetensors", SaveBestOnly: true}
	h, err := overfitFitEpochs(t, 3, ck)
	if err != nil {
		t.Fatal(err)
	}
	first := ck.Best()
	if first != h.History["val_loss"][2] {
		t.Fatalf("best %v after a run whose val_loss fell to %v", first, h.History["val_loss"][2])
	}
	// The same three epochs again: none beats the first run's best.
	if _, err := overfitFitEpochs(t, 3, ck); err != nil {
		t.Fatal(err)
	}
	if ck.Best() != first {
		t.Errorf("best moved from %v to %v on a run that did not beat it", first, ck.Best())
	}
	onlyFiles(t, dir, "1.safetensors", "2.safetensors", "3.safetensors")
}

// overfitFitEpochs trains a fresh overfitModel for epochs with validation.
func overfitFitEpochs(t *testing.T, epochs int, cbs ...Callback) (*History, error) {
	t.Helper()
	m := overfitModel(t)
	x, y, val := overfitData()
	return m.Fit(x, y, FitConfig{Epochs: epochs, BatchSize: overfitBatch, Verbose: VerboseSilent, Seed: 9,
		ValidationData: val, Callbacks: cbs})
}
