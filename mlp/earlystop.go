package mlp

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
)

// EarlyStopping stops training when a monitored value has stopped
// improving, as keras.callbacks.EarlyStopping in Keras 2.14, whose
// arguments its fields are; the zero value of each field is Keras's
// default:
//
//	&mlp.EarlyStopping{Patience: 2, RestoreBestWeights: true}
//
// At the end of each epoch from StartFromEpoch on, the monitored value is
// compared with the best so far: an improvement is a value below best −
// |MinDelta| in "min" mode (above best + |MinDelta| in "max" mode), and it
// resets the count of epochs waited, unless a Baseline is set and the value
// does not improve on it too. When the count reaches Patience, on an epoch
// that did not improve and is not the first (epoch 0), training stops
// after that epoch: StoppedEpoch is set, and with RestoreBestWeights the
// model takes back the weights it had at the end of the best epoch. As in
// Keras 2.14, the weights are not restored when training ends without
// stopping early; and the epoch that improves last is the best, even with
// a Baseline it did not beat.
//
// An EarlyStopping may be used for several Fits; each starts afresh. It
// keeps its snapshot of the weights between them, so that only its first
// snapshot allocates.
type EarlyStopping struct {
	// Monitor names the value to watch, a key of the epoch's Logs; ""
	// means "val_loss".
	Monitor string
	// MinDelta is the least change that counts as an improvement; its
	// sign is ignored.
	MinDelta float64
	// Patience is the number of epochs without improvement after which
	// training stops; 0 stops at the first epoch that does not improve.
	Patience int
	// Mode is "min", "max" or "auto" (also ""): "auto" watches for a
	// maximum when Monitor ends in "acc", "accuracy" or "auc", for a
	// minimum otherwise. Any other value is an error from Fit.
	Mode string
	// Baseline, if set, is a value the monitored one must improve on for
	// the count of epochs waited to be reset.
	Baseline *float64
	// RestoreBestWeights restores, when training stops early, the
	// weights of the end of the best epoch (or of the first epoch
	// watched, if none improved).
	RestoreBestWeights bool
	// StartFromEpoch is the first epoch watched (numbered from 0, as
	// History's), for a warm-up during which nothing counts.
	StartFromEpoch int
	// Verbose prints Keras's messages on Fit's output when training
	// stops ("Epoch 5: early stopping") and when weights are restored.
	Verbose bool
	// StoppedEpoch is set by Fit: the epoch (from 0) after which this
	// callback stopped training, or 0 if it did not.
	StoppedEpoch int

	monitor     string
	max         bool
	delta       float64 // MinDelta with the sign that makes v − delta compare with best
	wait        int
	best        float64
	bestEpoch   int
	haveWeights bool        // bestWeights holds this Fit's snapshot
	bestWeights [][]float32 // reused from Fit to Fit
	warned      bool
}

// OnTrainBegin checks the configuration and resets the state, as Keras's
// on_train_begin does.
func (e *EarlyStopping) OnTrainBegin(t *Training) error {
	e.monitor = e.Monitor
	if e.monitor == "" {
		e.monitor = "val_loss"
	}
	var err error
	e.max, err = monitorMode("EarlyStopping", e.Mode, e.monitor,
		strings.HasSuffix(e.monitor, "acc") || strings.HasSuffix(e.monitor, "accuracy") || strings.HasSuffix(e.monitor, "auc"))
	if err != nil {
		return err
	}
	// Keras stores -|min_delta| in min mode and tests current - delta,
	// so that one comparison serves both modes; the arithmetic is kept
	// the same so that borderline values go the same way.
	e.delta = math.Abs(e.MinDelta)
	if !e.max {
		e.delta = -e.delta
	}
	e.wait, e.StoppedEpoch, e.bestEpoch = 0, 0, 0
	e.best = math.Inf(1)
	if e.max {
		e.best = math.Inf(-1)
	}
	e.haveWeights, e.warned = false, false
	return nil
}

// OnEpochBegin does nothing.
func (e *EarlyStopping) OnEpochBegin(*Training, int) error { return nil }

// OnEpochEnd compares the monitored value with the best so far and stops
// training when it has not improved for Patience epochs.
func (e *EarlyStopping) OnEpochEnd(t *Training, epoch int, logs Logs) error {
	current, ok := logs[e.monitor]
	if !ok {
		// Keras logs this at every epoch; once per Fit says the same.
		if !e.warned {
			e.warned = true
			warnf(t, "Early stopping conditioned on metric `%s` which is not available. Available metrics are: %s",
				e.monitor, kerasLogKeys(logs))
		}
		return nil
	}
	if epoch < e.StartFromEpoch {
		return nil
	}
	if e.RestoreBestWeights && !e.haveWeights {
		// So that a run that never improves still restores the
		// weights of the first epoch watched.
		e.snapshot(t)
	}
	e.wait++
	if e.improves(current, e.best) {
		e.best, e.bestEpoch = current, epoch
		if e.RestoreBestWeights {
			e.snapshot(t)
		}
		if e.Baseline == nil || e.improves(current, *e.Baseline) {
			e.wait = 0
		}
		return nil
	}
	if e.wait >= e.Patience && epoch > 0 {
		e.StoppedEpoch = epoch
		t.StopTraining()
		if e.RestoreBestWeights && e.haveWeights {
			if e.Verbose {
				fmt.Fprintf(t.Out(), "Restoring model weights from the end of the best epoch: %d.\n", e.bestEpoch+1)
			}
			if err := t.SetWeights(e.bestWeights); err != nil {
				return fmt.Errorf("EarlyStopping: restoring the weights of epoch %d: %w", e.bestEpoch+1, err)
			}
		}
	}
	return nil
}

// OnTrainEnd reports the epoch training stopped at, with Verbose.
func (e *EarlyStopping) OnTrainEnd(t *Training, _ Logs) error {
	if e.StoppedEpoch > 0 && e.Verbose {
		fmt.Fprintf(t.Out(), "Epoch %d: early stopping\n", e.StoppedEpoch+1)
	}
	return nil
}

// BestEpoch returns the epoch (from 0) of the best monitored value of the
// last Fit, as Keras's best_epoch: 0 before any epoch was watched.
func (e *EarlyStopping) BestEpoch() int { return e.bestEpoch }

// Best returns the best monitored value of the last Fit, as Keras's best:
// +Inf (−Inf in max mode) before any epoch was watched.
func (e *EarlyStopping) Best() float64 { return e.best }

// improves is Keras's _is_improvement: v − delta beyond ref in the mode's
// direction. NaN never improves.
func (e *EarlyStopping) improves(v, ref float64) bool {
	if e.max {
		return v-e.delta > ref
	}
	return v-e.delta < ref
}

// snapshot copies the model's weights into bestWeights.
func (e *EarlyStopping) snapshot(t *Training) {
	e.bestWeights = copyWeights(t, e.bestWeights)
	e.haveWeights = true
}

// copyWeights copies the model's weights into dst, in Weights' order, and
// returns it; dst is allocated only when it does not have the model's
// shapes (the first time), so that a snapshot per epoch costs a copy.
func copyWeights(t *Training, dst [][]float32) [][]float32 {
	m := t.m
	if len(dst) != 2*len(m.dense) {
		return t.Weights()
	}
	for i, l := range m.dense {
		if len(dst[2*i]) != len(l.w) || len(dst[2*i+1]) != len(l.b) {
			return t.Weights()
		}
	}
	for i, l := range m.dense {
		copy(dst[2*i], l.w)
		copy(dst[2*i+1], l.b)
	}
	return dst
}

// monitorMode resolves a callback's Mode: "min" and "max" as given, "auto"
// or "" to autoMax, anything else an error naming the callback.
func monitorMode(who, mode, monitor string, autoMax bool) (bool, error) {
	switch mode {
	case "min":
		return false, nil
	case "max":
		return true, nil
	case "", "auto":
		return autoMax, nil
	}
	return false, fmt.Errorf("%s: Mode %q for %s is not one of \"auto\", \"min\" and \"max\"", who, mode, monitor)
}

// warnf prints a warning line on the Fit's output. Keras logs its
// callbacks' warnings through Python's logging ("WARNING:tensorflow:..."
// on standard error); a Fit has one output, so they go there.
func warnf(t *Training, format string, args ...any) {
	fmt.Fprintf(t.Out(), "WARNING: "+format+"\n", args...)
}

// kerasLogKeys lists the keys of logs comma-separated in the order Keras's
// logs dict has them: the loss, then the metrics, then their validation
// counterparts.
func kerasLogKeys(logs Logs) string {
	keys := make([]string, 0, len(logs))
	for k := range logs {
		keys = append(keys, k)
	}
	rank := func(k string) (int, string) {
		base, val := strings.CutPrefix(k, "val_")
		r := 1
		if base == "loss" {
			r = 0
		}
		if val {
			r += 2
		}
		return r, base
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, ba := rank(a)
		rb, bb := rank(b)
		if ra != rb {
			return ra - rb
		}
		return strings.Compare(ba, bb)
	})
	return strings.Join(keys, ",")
}

// appendPyFixed5 appends v as Python's f"{v:.5f}", which Keras's messages
// use ("inf" for the initial best).
func appendPyFixed5(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return pyfmt.AppendNonFinite(dst, v, false)
	}
	return strconv.AppendFloat(dst, v, 'f', 5, 64)
}
