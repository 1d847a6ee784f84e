package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
)

// vars73 holds the Python variables of chapter 7-3 that are not shared
// with other chapters, and matplotlib's current figure.
type vars73 struct {
	modelFn         func(aLayer *mlp.Layer) (*mlp.Sequential, error)
	history         *mlp.History
	checkpointCb    *mlp.ModelCheckpoint
	earlyStoppingCb *mlp.EarlyStopping
	valLabels       []int32
	fig             figure
}

// cells73 is chapter 7-3, "training a neural network model": loss curves,
// validation loss, Dropout, saving and loading, and the ModelCheckpoint
// and EarlyStopping callbacks.
//
// No export of this notebook is kept with the project, so its code cells
// are written here from the book, and the cell numbers are ours: the
// cells counted from 1 in order, not the notebook's execution counts (the
// 7-2 replay shows its notebook's own numbers). The notebook's Keras file
// names (.h5) become .safetensors names, the format package mlp writes;
// it refuses a Keras name for a file that is not Keras's format.
func cells73(t *replay) []cell {
	v := &vars73{}
	var cells []cell
	for _, part := range []func(*replay, *vars73) []cell{data73, curves73, validation73, dropout73, saving73, callbacks73} {
		cells = append(cells, part(t, v)...)
	}
	return cells
}

// data73 seeds the run and loads Fashion-MNIST with its validation split;
// the images stay 28×28 for the models' Flatten layer.
func data73(t *replay, _ *vars73) []cell {
	return []cell{
		{1, []step{
			show("# 실행마다 동일한 결과를 얻기 위해 케라스에 랜덤 시드를 사용하고 텐서플로 연산을 결정적으로 만듭니다."),
			show("import tensorflow as tf"),
			show(""),
			do(fmt.Sprintf("tf.keras.utils.set_random_seed(%d)", t.seed), func() error {
				mlp.SetRandomSeed(t.seed)
				return nil
			}),
			// mlp's training gives the same bits run after run at a
			// kernel level, whatever the threads: nothing to switch on.
			show("tf.config.experimental.enable_op_determinism()"),
		}},
		{2, []step{
			show("from tensorflow import keras"),
			show("from sklearn.model_selection import train_test_split"),
			show(""),
			t.loadData("(train_input, train_target), (test_input, test_target) = \\\n    keras.datasets.fashion_mnist.load_data()"),
			show(""),
			t.scale("train_scaled = train_input / 255.0"),
			show(""),
			t.split("train_scaled, val_scaled, train_target, val_target = train_test_split(\n    train_scaled, train_target, test_size=0.2, random_state=42)"),
		}},
	}
}

// curves73 defines model_fn and draws the training loss and accuracy of a
// 5-epoch and a 20-epoch fit.
func curves73(t *replay, v *vars73) []cell {
	return []cell{
		{3, []step{
			do(`def model_fn(a_layer=None):
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=(28, 28)))
    model.add(keras.layers.Dense(100, activation='relu'))
    if a_layer:
        model.add(a_layer)
    model.add(keras.layers.Dense(10, activation='softmax'))
    return model`, func() error {
				v.modelFn = modelFn
				return nil
			}),
		}},
		{4, []step{
			v.newModel(t, "model = model_fn()", nil),
			show(""),
			t.summary("model.summary()"),
		}},
		{5, []step{
			t.compile("model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')", nil),
			show(""),
			v.fit(t, "history = model.fit(train_scaled, train_target, epochs=%d, verbose=0)", fitArgs{epochs: 5}),
		}},
		{6, []step{v.printKeys(t, "print(history.history.keys())")}},
		{7, slices.Concat(
			[]step{show("import matplotlib.pyplot as plt"), show("")},
			v.plot(t, "", "loss"),
		)},
		{8, v.plot(t, "", "accuracy")},
		{9, slices.Concat(
			[]step{
				v.newModel(t, "model = model_fn()", nil),
				t.compile("model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')", nil),
				show(""),
				v.fit(t, "history = model.fit(train_scaled, train_target, epochs=%d, verbose=0)", fitArgs{epochs: 20}),
				show(""),
			},
			v.plot(t, "", "loss"),
		)},
	}
}

// validation73 fits with validation data, with RMSprop and with Adam, and
// draws the training and validation loss together.
func validation73(t *replay, v *vars73) []cell {
	return []cell{
		{10, []step{
			v.newModel(t, "model = model_fn()", nil),
			t.compile("model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')", nil),
			show(""),
			v.fit(t, fitValidating, fitArgs{epochs: 20, validate: true}),
		}},
		{11, []step{v.printKeys(t, "print(history.history.keys())")}},
		{12, v.plot(t, "val_loss", "loss")},
		{13, slices.Concat(
			[]step{
				v.newModel(t, "model = model_fn()", nil),
				t.compileNamed(compileAdam, "adam"),
				show(""),
				v.fit(t, fitValidating, fitArgs{epochs: 20, validate: true}),
				show(""),
			},
			v.plot(t, "val_loss", "loss"),
		)},
	}
}

// dropout73 puts a Dropout layer after the hidden layer and trains that.
func dropout73(t *replay, v *vars73) []cell {
	return []cell{
		{14, []step{
			v.newModel(t, "model = model_fn(keras.layers.Dropout(0.3))", dropout30),
			show(""),
			t.summary("model.summary()"),
		}},
		{15, slices.Concat(
			[]step{
				t.compileNamed(compileAdam, "adam"),
				show(""),
				v.fit(t, fitValidating, fitArgs{epochs: 20, validate: true}),
				show(""),
			},
			v.plot(t, "val_loss", "loss"),
		)},
	}
}

// saving73 trains the Dropout model 10 epochs, saves its weights and the
// whole model, loads the weights into a new model to predict with, and
// loads the whole model to evaluate.
func saving73(t *replay, v *vars73) []cell {
	return []cell{
		{16, []step{
			v.newModel(t, "model = model_fn(keras.layers.Dropout(0.3))", dropout30),
			t.compileNamed(compileAdam, "adam"),
			show(""),
			v.fit(t, fitValidating, fitArgs{epochs: 10, validate: true}),
		}},
		{17, []step{do("model.save_weights('model-weights.safetensors')", func() error {
			return t.model.SaveWeights(t.file("model-weights.safetensors"))
		})}},
		{18, []step{do("model.save('model-whole.safetensors')", func() error {
			return t.model.Save(t.file("model-whole.safetensors"))
		})}},
		{19, []step{do("!ls -al *.safetensors", func() error {
			return t.listFiles("*.safetensors")
		})}},
		{20, []step{
			v.newModel(t, "model = model_fn(keras.layers.Dropout(0.3))", dropout30),
			show(""),
			do("model.load_weights('model-weights.safetensors')", func() error {
				return t.model.LoadWeights(t.file("model-weights.safetensors"))
			}),
		}},
		{21, []step{
			// NumPy is Go's arithmetic here.
			show("import numpy as np"),
			show(""),
			do("val_labels = np.argmax(model.predict(val_scaled), axis=-1)", func() error {
				v.valLabels = make([]int32, len(t.data.yVal))
				return t.predictClasses(v.valLabels)
			}),
			do("print(np.mean(val_labels == val_target))", func() error {
				same := 0
				for i, c := range v.valLabels {
					if c == t.data.yVal[i] {
						same++
					}
				}
				// NumPy's mean of booleans: the count over n in float64.
				fmt.Fprintln(t.out, pyFloat(float64(same)/float64(len(v.valLabels))))
				return nil
			}),
		}},
		{22, []step{
			t.loadModel("model = keras.models.load_model('model-whole.safetensors')", "model-whole.safetensors"),
			show(""),
			t.evaluate("model.evaluate(val_scaled, val_target)"),
		}},
	}
}

// callbacks73 keeps the best model of a fit with ModelCheckpoint, then
// also stops the fit early with EarlyStopping.
func callbacks73(t *replay, v *vars73) []cell {
	checkpoint := do(`checkpoint_cb = keras.callbacks.ModelCheckpoint('best-model.safetensors',
                                                save_best_only=True)`, func() error {
		// ModelCheckpoint formats its path as Python's str.format does, so
		// braces in the -out directory's name must be doubled.
		path := strings.NewReplacer("{", "{{", "}", "}}").Replace(t.file("best-model.safetensors"))
		v.checkpointCb = &mlp.ModelCheckpoint{Path: path, SaveBestOnly: true}
		return nil
	})
	return []cell{
		{23, []step{
			v.newModel(t, "model = model_fn(keras.layers.Dropout(0.3))", dropout30),
			t.compileNamed(compileAdam, "adam"),
			show(""),
			checkpoint,
			show(""),
			v.fit(t, `model.fit(train_scaled, train_target, epochs=%d, verbose=0,
          validation_data=(val_scaled, val_target),
          callbacks=[checkpoint_cb])`, fitArgs{epochs: 20, validate: true, value: true, callbacks: func() []mlp.Callback {
				return []mlp.Callback{v.checkpointCb}
			}}),
		}},
		{24, []step{
			t.loadModel("model = keras.models.load_model('best-model.safetensors')", "best-model.safetensors"),
			show(""),
			t.evaluate("model.evaluate(val_scaled, val_target)"),
		}},
		{25, []step{
			v.newModel(t, "model = model_fn(keras.layers.Dropout(0.3))", dropout30),
			t.compileNamed(compileAdam, "adam"),
			show(""),
			checkpoint,
			do(`early_stopping_cb = keras.callbacks.EarlyStopping(patience=2,
                                                  restore_best_weights=True)`, func() error {
				v.earlyStoppingCb = &mlp.EarlyStopping{Patience: 2, RestoreBestWeights: true}
				return nil
			}),
			show(""),
			v.fit(t, `history = model.fit(train_scaled, train_target, epochs=%d, verbose=0,
                    validation_data=(val_scaled, val_target),
                    callbacks=[checkpoint_cb, early_stopping_cb])`, fitArgs{epochs: 20, validate: true, callbacks: func() []mlp.Callback {
				return []mlp.Callback{v.checkpointCb, v.earlyStoppingCb}
			}}),
		}},
		{26, []step{do("print(early_stopping_cb.stopped_epoch)", func() error {
			_, err := fmt.Fprintln(t.out, v.earlyStoppingCb.StoppedEpoch)
			return err
		})}},
		{27, v.plot(t, "val_loss", "loss")},
		{28, []step{t.evaluate("model.evaluate(val_scaled, val_target)")}},
	}
}

// The statements the chapter writes several times the same way.
const (
	compileAdam = `model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
              metrics='accuracy')`
	fitValidating = `history = model.fit(train_scaled, train_target, epochs=%d, verbose=0,
                    validation_data=(val_scaled, val_target))`
)

// modelFn is the notebook's model_fn: Flatten → Dense(100, relu) → aLayer
// (when given) → Dense(10, softmax), added in Python's order so that the
// layers take Keras's automatic names in the notebook's order.
func modelFn(aLayer *mlp.Layer) (*mlp.Sequential, error) {
	m := mlp.NewSequential("")
	layers := []*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu")}
	if aLayer != nil {
		layers = append(layers, aLayer)
	}
	for _, l := range append(layers, softmax10()) {
		if err := m.Add(l); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// dropout30 is keras.layers.Dropout(0.3), the layer the chapter passes to
// model_fn.
func dropout30() *mlp.Layer { return mlp.Dropout(0.3) }

// newModel is `model = model_fn(…)`; layer makes model_fn's argument when
// the statement runs (nil: none), before model_fn makes its own layers, as
// Python evaluates an argument before the call.
func (v *vars73) newModel(t *replay, src string, layer func() *mlp.Layer) step {
	return do(src, func() error {
		if v.modelFn == nil {
			return fmt.Errorf("tutorial: %s: model_fn is not defined yet", src)
		}
		var a *mlp.Layer
		if layer != nil {
			a = layer()
		}
		m, err := v.modelFn(a)
		if err != nil {
			return err
		}
		t.model = m
		return nil
	})
}

// fitArgs is what a fit statement of chapter 7-3 passes beyond the data:
// the notebook's epochs (which -epochs replaces), validation_data,
// callbacks (made when the statement runs), and whether the statement is
// a bare expression whose History Jupyter shows rather than an assignment
// to history.
type fitArgs struct {
	epochs    int
	validate  bool
	callbacks func() []mlp.Callback
	value     bool
}

// fit is a `model.fit(train_scaled, train_target, epochs=…, verbose=0, …)`
// statement; src has a %d for the epochs. verbose=0 is in the source, so
// these fits print nothing whatever -verbose says.
func (v *vars73) fit(t *replay, src string, a fitArgs) step {
	epochs := t.epochsOr(a.epochs)
	return step{src: fmt.Sprintf(src, epochs), run: func() (any, error) {
		cfg := mlp.FitConfig{Epochs: epochs, Verbose: mlp.VerboseSilent, Out: t.out}
		if a.validate {
			cfg.ValidationData = &mlp.Data{X: t.data.xVal, Y: t.data.yVal}
		}
		if a.callbacks != nil {
			cfg.Callbacks = a.callbacks()
		}
		h, err := t.model.Fit(t.data.xTrain, t.data.yTrain, cfg)
		if err != nil {
			return nil, err
		}
		t.histories[t.cellN] = h
		if a.value {
			return h, nil
		}
		v.history = h
		return nil, nil
	}}
}

// printKeys is `print(history.history.keys())`, printed as Python prints
// a dict's keys.
func (v *vars73) printKeys(t *replay, src string) step {
	return do(src, func() error {
		_, err := fmt.Fprintln(t.out, pyDictKeys(v.history.Keys))
		return err
	})
}

// pyDictKeys is Python's repr of a dict_keys of strings, such as
// dict_keys(['loss', 'accuracy']).
func pyDictKeys(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = "'" + k + "'"
	}
	return "dict_keys([" + strings.Join(q, ", ") + "])"
}

// plot is the notebook's matplotlib statements for one figure of history:
// the curve of ylabel ("loss" or "accuracy") and, when other is not "",
// the curve of other with the legend ['train', 'val'], then plt.show().
func (v *vars73) plot(t *replay, other, ylabel string) []step {
	steps := []step{v.plotCurve(fmt.Sprintf("plt.plot(history.history['%s'])", ylabel), ylabel)}
	if other != "" {
		steps = append(steps, v.plotCurve(fmt.Sprintf("plt.plot(history.history['%s'])", other), other))
	}
	steps = append(steps,
		do("plt.xlabel('epoch')", func() error { v.fig.xlabel = "epoch"; return nil }),
		do(fmt.Sprintf("plt.ylabel('%s')", ylabel), func() error { v.fig.ylabel = ylabel; return nil }),
	)
	if other != "" {
		steps = append(steps, do("plt.legend(['train', 'val'])", func() error {
			v.fig.legend = []string{"train", "val"}
			return nil
		}))
	}
	return append(steps, do("plt.show()", func() error { return t.showFigure(&v.fig) }))
}

// plotCurve is `plt.plot(history.history[key])`.
func (v *vars73) plotCurve(src, key string) step {
	return do(src, func() error {
		ys, ok := v.history.History[key]
		if !ok {
			return fmt.Errorf("tutorial: %s: history has no %q (it has %s)", src, key, strings.Join(v.history.Keys, ", "))
		}
		v.fig.curves = append(v.fig.curves, slices.Clone(ys))
		return nil
	})
}

// showFigure is plt.show(): it writes the figure as cellNN-YLABEL.png in
// the replay's directory and prints where, in the place where Jupyter
// shows the picture, with the text Jupyter gives a figure; then, as
// matplotlib does, it starts a new figure.
func (t *replay) showFigure(f *figure) error {
	name := fmt.Sprintf("cell%02d-%s.png", t.cellN, cmpOr(f.ylabel, "figure"))
	path := t.file(name)
	if err := f.writePNG(path); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "<Figure size 640x480 with 1 Axes: %s>\n", path)
	*f = figure{}
	return nil
}

// cmpOr returns s, or def when s is empty.
func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// file is the path of a file the notebook names without a directory: in
// the replay's directory, where the notebook's current directory was.
func (t *replay) file(name string) string { return filepath.Join(t.dir, name) }

// loadModel is `model = keras.models.load_model(name)`: mlp.Load returns
// the model compiled, as Keras does for a model saved compiled.
func (t *replay) loadModel(src, name string) step {
	return do(src, func() error {
		m, err := mlp.Load(t.file(name))
		if err != nil {
			return err
		}
		t.model = m
		return nil
	})
}

// predictClasses is np.argmax(model.predict(val_scaled), axis=-1) into
// dst, with predict's progress output as -verbose asks. Keras redraws its
// bar in place while it predicts; mlp predicts 12000 images in a few
// milliseconds, so the bar is drawn once, done, which is what a terminal
// shows of Keras's bar at the end.
func (t *replay) predictClasses(dst []int32) error {
	start := time.Now()
	if err := t.model.PredictClasses(t.data.xVal, dst); err != nil {
		return err
	}
	elapsed := time.Since(start).Seconds()
	steps := (len(dst) + 31) / 32 // predict's batches of 32
	switch t.verbose {
	case mlp.VerboseBar:
		fmt.Fprintf(t.out, "\r%d/%d [%s] - %.0fs %s/step\n", steps, steps, strings.Repeat("=", 30), elapsed, kerasTime(elapsed/float64(steps)))
	case mlp.VerboseEpoch:
		fmt.Fprintf(t.out, "%d/%d - %.0fs - %s/epoch - %s/step\n", steps, steps, elapsed, kerasTime(elapsed), kerasTime(elapsed/float64(steps)))
	}
	return nil
}

// kerasTime writes a duration in seconds as Keras's progress bar does:
// whole seconds, milliseconds or microseconds.
func kerasTime(s float64) string {
	switch {
	case s >= 1 || s == 0:
		return fmt.Sprintf("%.0fs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.0fms", s*1e3)
	default:
		return fmt.Sprintf("%.0fus", s*1e6)
	}
}

// listFiles is `!ls -al PATTERN` in the replay's directory: one line per
// matching file in name order, with ls's mode, size and time columns and
// the name. ls's link count, owner and group are left out: they say
// nothing about the models and Go has no portable way to get them.
func (t *replay) listFiles(pattern string) error {
	names, err := filepath.Glob(t.file(pattern))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		// What the shell's ls says when the glob matches nothing.
		fmt.Fprintf(t.out, "ls: cannot access '%s': No such file or directory\n", pattern)
		return nil
	}
	var infos []os.FileInfo
	width := 0
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil {
			return err
		}
		infos = append(infos, fi)
		width = max(width, len(fmt.Sprint(fi.Size())))
	}
	now := time.Now()
	for _, fi := range infos {
		// ls shows the time of day for files changed in the last six
		// months and the year for older ones.
		layout := "Jan _2 15:04"
		if mt := fi.ModTime(); mt.Before(now.AddDate(0, -6, 0)) || mt.After(now.Add(time.Hour)) {
			layout = "Jan _2  2006"
		}
		fmt.Fprintf(t.out, "%s %*d %s %s\n", fi.Mode(), width, fi.Size(), fi.ModTime().Format(layout), fi.Name())
	}
	return nil
}
