package mlp

import (
	"fmt"
	"io"
)

// Logs holds the values Fit reports to callbacks, by Keras's names: "loss"
// and the metric ("accuracy") and, with validation, "val_loss" and
// "val_accuracy". Fit reuses one map for the whole run: a callback that
// keeps values must copy them.
type Logs map[string]float64

// Callback receives Fit's events, as keras.callbacks.Callback: the start
// of training, the start and end of every epoch (after validation, with the
// epoch's logs), and the end of training (also after an error or a
// cancellation, so that files are closed). Epochs are numbered from 0, as
// in History. A callback stops training with Training.StopTraining (the
// current epoch then completes, as in Keras); an error it returns ends Fit
// at once with that error.
//
// Embed CallbackBase to implement only some of the methods. A callback
// that also implements BatchCallback is told of every step.
//
// Callbacks run in Fit's goroutine while Fit holds the model, so the
// model's own methods would report ErrConcurrentUse: use the Training's
// methods (Weights, SetWeights, Save, SaveWeights) instead.
type Callback interface {
	OnTrainBegin(t *Training) error
	OnEpochBegin(t *Training, epoch int) error
	OnEpochEnd(t *Training, epoch int, logs Logs) error
	OnTrainEnd(t *Training, logs Logs) error
}

// BatchCallback is implemented by callbacks that want every training step,
// as Keras's on_train_batch_end: batch counts from 0 within the epoch and
// logs hold the running loss and metric of the epoch so far. It is called
// only for callbacks that implement it, so other callbacks cost nothing per
// step. Stopping from here ends the epoch after this step.
type BatchCallback interface {
	OnBatchEnd(t *Training, batch int, logs Logs) error
}

// CallbackBase implements every method of Callback by doing nothing; embed
// it in a callback that needs only some of them.
type CallbackBase struct{}

// OnTrainBegin does nothing.
func (CallbackBase) OnTrainBegin(*Training) error { return nil }

// OnEpochBegin does nothing.
func (CallbackBase) OnEpochBegin(*Training, int) error { return nil }

// OnEpochEnd does nothing.
func (CallbackBase) OnEpochEnd(*Training, int, Logs) error { return nil }

// OnTrainEnd does nothing.
func (CallbackBase) OnTrainEnd(*Training, Logs) error { return nil }

// EpochEndFunc is a Callback made of one function called at the end of
// every epoch, as keras.callbacks.LambdaCallback(on_epoch_end=...).
type EpochEndFunc func(t *Training, epoch int, logs Logs) error

// OnTrainBegin does nothing.
func (EpochEndFunc) OnTrainBegin(*Training) error { return nil }

// OnEpochBegin does nothing.
func (EpochEndFunc) OnEpochBegin(*Training, int) error { return nil }

// OnEpochEnd calls f.
func (f EpochEndFunc) OnEpochEnd(t *Training, epoch int, logs Logs) error { return f(t, epoch, logs) }

// OnTrainEnd does nothing.
func (EpochEndFunc) OnTrainEnd(*Training, Logs) error { return nil }

// Training is what a callback sees of the Fit it runs in: the run's
// parameters, its output, the stop flag, and the model's weights and files.
type Training struct {
	m       *Sequential
	out     io.Writer
	verbose Verbosity
	epochs  int
	steps   int
	stop    bool
}

// Model returns the model being trained, for its name, layers and shapes.
// Its methods that use the weights or buffers (Evaluate, Predict, Save, …)
// report ErrConcurrentUse while Fit runs; use the Training's methods.
func (t *Training) Model() *Sequential { return t.m }

// Out returns the writer of Fit's progress output, where callbacks print.
func (t *Training) Out() io.Writer { return t.out }

// Verbose returns Fit's Verbose setting, resolved ("auto" is the bar).
func (t *Training) Verbose() Verbosity { return t.verbose }

// Epochs returns the number of epochs Fit was asked for (FitConfig.Epochs,
// at least 1), as Keras's params["epochs"].
func (t *Training) Epochs() int { return t.epochs }

// Steps returns the number of training steps per epoch.
func (t *Training) Steps() int { return t.steps }

// StopTraining asks Fit to stop, as Keras's model.stop_training = True:
// from an epoch's end (or its beginning) after that epoch, from a batch's
// end after that step.
func (t *Training) StopTraining() { t.stop = true }

// Stopping reports whether StopTraining was called in this Fit.
func (t *Training) Stopping() bool { return t.stop }

// Weights returns copies of the model's weights, as Sequential.Weights.
func (t *Training) Weights() [][]float32 { return t.m.Weights() }

// SetWeights copies w into the model, as Sequential.SetWeights.
func (t *Training) SetWeights(w [][]float32) error { return t.m.setWeights(w) }

// Save writes the model to path, as Sequential.Save.
func (t *Training) Save(path string) error { return t.m.save(path, SaveOptions{}) }

// SaveWith writes the model to path, as Sequential.SaveWith.
func (t *Training) SaveWith(path string, opts SaveOptions) error { return t.m.save(path, opts) }

// callbacks runs a Fit's callbacks in order; the first error ends the
// event and is returned with the callback's place and type.
type callbacks struct {
	list  []Callback
	batch []BatchCallback // those of list that want every step
	t     *Training
	logs  Logs
}

func newCallbacks(list []Callback, t *Training) (*callbacks, error) {
	cb := &callbacks{list: list, t: t, logs: make(Logs, 4)}
	for i, c := range list {
		if c == nil {
			return nil, fmt.Errorf("mlp: Fit: Callbacks[%d] is nil", i)
		}
		if b, ok := c.(BatchCallback); ok {
			cb.batch = append(cb.batch, b)
		}
	}
	return cb, nil
}

func (cb *callbacks) wrap(i int, event string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mlp: Fit: callback %d (%T) %s: %w", i, cb.list[i], event, err)
}

func (cb *callbacks) trainBegin() error {
	for i, c := range cb.list {
		if err := cb.wrap(i, "OnTrainBegin", c.OnTrainBegin(cb.t)); err != nil {
			return err
		}
	}
	return nil
}

func (cb *callbacks) epochBegin(epoch int) error {
	for i, c := range cb.list {
		if err := cb.wrap(i, "OnEpochBegin", c.OnEpochBegin(cb.t, epoch)); err != nil {
			return err
		}
	}
	return nil
}

// setLogs fills the shared Logs map from vals.
func (cb *callbacks) setLogs(vals []metricValue) Logs {
	clear(cb.logs)
	for _, v := range vals {
		cb.logs[v.name] = v.v
	}
	return cb.logs
}

func (cb *callbacks) batchEnd(batch int, vals []metricValue) error {
	logs := cb.setLogs(vals)
	for _, c := range cb.batch {
		if err := c.OnBatchEnd(cb.t, batch, logs); err != nil {
			return fmt.Errorf("mlp: Fit: callback %T OnBatchEnd: %w", c, err)
		}
	}
	return nil
}

func (cb *callbacks) epochEnd(epoch int, vals []metricValue) error {
	logs := cb.setLogs(vals)
	for i, c := range cb.list {
		if err := cb.wrap(i, "OnEpochEnd", c.OnEpochEnd(cb.t, epoch, logs)); err != nil {
			return err
		}
	}
	return nil
}

// trainEnd tells every callback, even after one fails, so that each can
// release what it holds; it returns the first error.
func (cb *callbacks) trainEnd(vals []metricValue) error {
	logs := cb.setLogs(vals)
	var first error
	for i, c := range cb.list {
		if err := cb.wrap(i, "OnTrainEnd", c.OnTrainEnd(cb.t, logs)); err != nil && first == nil {
			first = err
		}
	}
	return first
}
