package mlp

import (
	"io"
	"path/filepath"
	"testing"
)

// TestBuiltinCallbacksAllocs: the built-in callbacks cost a constant
// number of allocations per Fit (opening a file, a directory, the first
// weight snapshot, a warning) and none per epoch: a Fit of 6 epochs
// allocates as many more than one of 2 with them as without them.
//
// What is not covered: a ModelCheckpoint epoch that saves allocates, as
// Save does (the file's header, the temporary file); the runs below watch
// values that do not improve after the warm-up Fit, so that only the
// per-epoch work around the save is measured: formatting the file name,
// the comparison and the verbose line. CSVLogger's row is one unbuffered
// write to its file, which allocates nothing.
func TestBuiltinCallbacksAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	dir := t.TempDir()
	x, y, val := overfitData()
	m := overfitModel(t)
	allocs := func(epochs int, cbs []Callback) float64 {
		cfg := FitConfig{Epochs: epochs, BatchSize: overfitBatch, Verbose: VerboseSilent, Out: io.Discard, Seed: 9,
			ValidationData: val, Callbacks: cbs}
		fit := func() {
			if _, err := m.Fit(x, y, cfg); err != nil {
				t.Fatal(err)
			}
		}
		fit() // the warm-up: first snapshots, buffers, the best so far
		return testing.AllocsPerRun(3, fit)
	}
	base := allocs(6, nil) - allocs(2, nil)
	ckptPath := filepath.Join(dir, "ckpt", "{epoch:02d}-{val_loss:.4f}-{loss}-{val_accuracy:5.1%}.safetensors")
	for _, c := range []struct {
		name string
		cbs  func() []Callback
	}{
		// The training loss improves at almost every epoch, so the
		// weights are copied at almost every epoch.
		{"EarlyStopping", func() []Callback {
			return []Callback{&EarlyStopping{Monitor: "loss", Patience: 1000, RestoreBestWeights: true, Verbose: true}}
		}},
		{"EarlyStopping on a missing value", func() []Callback {
			return []Callback{&EarlyStopping{Monitor: "val_auc", RestoreBestWeights: true, Verbose: true}}
		}},
		// The training loss only falls after the warm-up Fit, so a
		// maximum is never beaten again: every epoch says "did not
		// improve".
		{"ModelCheckpoint", func() []Callback {
			return []Callback{&ModelCheckpoint{Path: ckptPath, Monitor: "loss", Mode: "max", SaveBestOnly: true, Verbose: true}}
		}},
		{"ModelCheckpoint on a missing value", func() []Callback {
			return []Callback{&ModelCheckpoint{Path: ckptPath, Monitor: "val_auc", SaveBestOnly: true, Verbose: true}}
		}},
		{"CSVLogger", func() []Callback {
			return []Callback{&CSVLogger{Path: filepath.Join(dir, "log.csv")}}
		}},
		{"all three", func() []Callback {
			return []Callback{
				&EarlyStopping{Patience: 1000, RestoreBestWeights: true},
				&ModelCheckpoint{Path: ckptPath, Monitor: "loss", Mode: "max", SaveBestOnly: true},
				&CSVLogger{Path: filepath.Join(dir, "all.csv"), Append: true},
			}
		}},
	} {
		cbs := c.cbs()
		few := allocs(2, cbs)
		many := allocs(6, cbs)
		if many-few != base {
			t.Errorf("%s: 4 more epochs allocate %v more times, %v without callbacks", c.name, many-few, base)
		}
		t.Logf("%s: %v allocations per 2-epoch Fit", c.name, few)
	}
}
