package mlp

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ModelCheckpoint saves the model at the end of every epoch, or only when
// a monitored value improves, as keras.callbacks.ModelCheckpoint in Keras
// 2.14 with save_freq="epoch"; the zero value of each field other than
// Path is Keras's default:
//
//	&mlp.ModelCheckpoint{Path: "best-model.safetensors", SaveBestOnly: true}
//
// Path is a Python format string, filled as Keras fills it with
// filepath.format(epoch=epoch+1, **logs): "{epoch:02d}-{val_loss:.2f}.safetensors"
// names the file of the third epoch "03-0.41.safetensors". A field is a
// name, optionally with Python's format spec ([[fill]align][sign][0]
// [width][.precision][type], types d, x, o, b for the epoch and f, e, g, %
// and their capitals for any value) or a !r or !s conversion; a value
// without a spec is written as Python writes it (0.4123000025749207,
// 1e-05); {{ and }} are braces. A name that is neither "epoch" nor a key
// of the logs is an error from Fit, as Python's KeyError ends Keras's fit.
//
// The file is written as Training.Save writes it: with the compile state,
// or without it (Keras's save_weights) when SaveWeightsOnly is set; both
// load with LoadWeights, and the first with Load as a compiled model. A
// Path ending in .h5, .hdf5 or .keras is refused, before training when the
// ending does not depend on the fields. Missing directories are created.
//
// With SaveBestOnly the file is written only when the monitored value
// improves strictly on the best so far (there is no MinDelta). As in
// Keras, whose ModelCheckpoint sets its best once when it is made, the
// best carries over from one Fit to the next: a second Fit with the same
// ModelCheckpoint saves only what beats the first's best.
type ModelCheckpoint struct {
	// Path is the file name, a Python format string (see above).
	Path string
	// Monitor names the value SaveBestOnly watches, a key of the
	// epoch's Logs; "" means "val_loss".
	Monitor string
	// SaveBestOnly saves only when the monitored value improves.
	SaveBestOnly bool
	// SaveWeightsOnly leaves the compile state out of the file (see
	// SaveOptions.ExcludeOptimizer).
	SaveWeightsOnly bool
	// Mode is "min", "max" or "auto" (also ""): "auto" watches for a
	// maximum when Monitor contains "acc" or starts with "fmeasure", for
	// a minimum otherwise, as Keras 2.14's ModelCheckpoint decides (its
	// rule differs from EarlyStopping's). Any other value is an error
	// from Fit.
	Mode string
	// Verbose prints Keras's line for every epoch's decision on Fit's
	// output, such as "Epoch 5: val_loss improved from 0.34567 to
	// 0.33210, saving model to best.safetensors" after an empty line.
	Verbose bool

	tmpl    *pyTemplate
	tmplSrc string
	monitor string
	max     bool
	best    float64
	bestSet bool   // best was set by a first Fit
	bestKey string // the monitor and mode best belongs to
	path    []byte // the epoch's file name, reused
	scratch []byte
	msg     []byte
	lastDir string // the directory last created or found
	warned  bool
}

// OnTrainBegin checks the configuration: the mode, the Path's syntax and,
// when its ending is fixed, that it is not a Keras format's.
func (c *ModelCheckpoint) OnTrainBegin(t *Training) error {
	if c.Path == "" {
		return fmt.Errorf("ModelCheckpoint: Path is empty")
	}
	c.monitor = c.Monitor
	if c.monitor == "" {
		c.monitor = "val_loss"
	}
	var err error
	c.max, err = monitorMode("ModelCheckpoint", c.Mode, c.monitor,
		strings.Contains(c.monitor, "acc") || strings.HasPrefix(c.monitor, "fmeasure"))
	if err != nil {
		return err
	}
	if key := c.monitor + "\x00" + strconv.FormatBool(c.max); !c.bestSet || key != c.bestKey {
		// Keras fixes best when the callback is made; a Go value has
		// no constructor, so the first Fit (or a change of what is
		// watched) does it.
		c.best, c.bestSet, c.bestKey = math.Inf(1), true, key
		if c.max {
			c.best = math.Inf(-1)
		}
	}
	if c.tmpl == nil || c.tmplSrc != c.Path {
		tmpl, err := parsePyTemplate(c.Path)
		if err != nil {
			return fmt.Errorf("ModelCheckpoint: Path: %w", err)
		}
		c.tmpl, c.tmplSrc = tmpl, c.Path
	}
	// Save would refuse a Keras file name only at the first epoch's end;
	// when the ending does not depend on the epoch (the text after the
	// last field holds no directory separator), say so now.
	if sfx := c.tmpl.suffix(); !c.tmpl.fields() || !strings.ContainsAny(sfx, `/\`) {
		if err := checkSavePath(sfx); err != nil {
			return fmt.Errorf("ModelCheckpoint: Path %q: %w", c.Path, err)
		}
	}
	// The directory is looked for again in every Fit, in case it was
	// removed in between.
	c.warned, c.lastDir = false, ""
	return nil
}

// OnEpochBegin does nothing.
func (c *ModelCheckpoint) OnEpochBegin(*Training, int) error { return nil }

// OnEpochEnd names the epoch's file and saves the model there, always or,
// with SaveBestOnly, when the monitored value improved.
func (c *ModelCheckpoint) OnEpochEnd(t *Training, epoch int, logs Logs) error {
	var err error
	c.path, c.scratch, err = c.tmpl.appendFormat(c.path[:0], c.scratch, "epoch", epoch+1, logs)
	if err != nil {
		return fmt.Errorf("ModelCheckpoint: cannot format Path %q: %w", c.Path, err)
	}
	// Keras creates the directory before it decides whether to save.
	// The name is compared as bytes, which does not allocate.
	if dir := dirOf(c.path); len(dir) > 0 && string(dir) != c.lastDir {
		d := string(dir)
		if err := os.MkdirAll(d, 0o777); err != nil {
			return fmt.Errorf("ModelCheckpoint: %w", err)
		}
		c.lastDir = d
	}
	if !c.SaveBestOnly {
		if c.Verbose {
			c.say(t, epoch, "saving model to ", "", 0, c.path)
		}
		return c.save(t)
	}
	current, ok := logs[c.monitor]
	if !ok {
		// Keras logs this at every epoch; once per Fit says the same.
		if !c.warned {
			c.warned = true
			warnf(t, "Can save best model only with %s available, skipping.", c.monitor)
		}
		return nil
	}
	if (c.max && current > c.best) || (!c.max && current < c.best) {
		if c.Verbose {
			c.say(t, epoch, " improved from ", " to ", current, c.path)
		}
		c.best = current
		return c.save(t)
	}
	if c.Verbose {
		c.say(t, epoch, " did not improve from ", "", 0, nil)
	}
	return nil
}

// OnTrainEnd does nothing.
func (c *ModelCheckpoint) OnTrainEnd(*Training, Logs) error { return nil }

// Best returns the best monitored value seen with SaveBestOnly: +Inf
// (−Inf in max mode) before the first save.
func (c *ModelCheckpoint) Best() float64 {
	if !c.bestSet {
		return math.Inf(1)
	}
	return c.best
}

// save writes the epoch's file.
func (c *ModelCheckpoint) save(t *Training) error {
	err := t.SaveWith(string(c.path), SaveOptions{ExcludeOptimizer: c.SaveWeightsOnly})
	if err != nil {
		return fmt.Errorf("ModelCheckpoint: %w", err)
	}
	return nil
}

// say prints one of Keras's three lines, built in a reused buffer:
//
//	\nEpoch 3: saving model to PATH
//	\nEpoch 5: MONITOR improved from BEST to CURRENT, saving model to PATH
//	\nEpoch 6: MONITOR did not improve from BEST
//
// mid is the text after "Epoch N: " (after the monitor's name when it
// starts with a space), to is set for the improvement line.
func (c *ModelCheckpoint) say(t *Training, epoch int, mid, to string, current float64, path []byte) {
	b := append(c.msg[:0], "\nEpoch "...)
	b = strconv.AppendInt(b, int64(epoch+1), 10)
	b = append(b, ": "...)
	if mid[0] == ' ' {
		b = append(b, c.monitor...)
		b = append(b, mid...)
		b = appendPyFixed5(b, c.best)
	} else {
		b = append(b, mid...)
	}
	if to != "" {
		b = append(b, to...)
		b = appendPyFixed5(b, current)
		b = append(b, ", saving model to "...)
	}
	b = append(b, path...)
	b = append(b, '\n')
	c.msg = b
	t.Out().Write(b) //nolint:errcheck // progress output is best effort, as Fit's own
}

// dirOf returns the directory part of a file name, as Python's
// os.path.dirname: everything before the last separator, "" when there is
// none.
func dirOf(path []byte) []byte {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			if i == 0 {
				return path[:1]
			}
			return path[:i]
		}
	}
	return nil
}
