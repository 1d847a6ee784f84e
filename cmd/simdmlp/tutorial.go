package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// runTutorial replays chapter 7-2 of the Keras tutorial (혼공머신, "deep
// neural networks") cell by cell: each cell's Python source, then what
// Keras printed, with this package's own numbers.
func runTutorial(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simdmlp tutorial", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "directory holding Fashion-MNIST's four files (default: search, then download)")
	epochs := fs.Int("epochs", 5, "epochs of each fit (the notebook uses 5)")
	seed := fs.Uint64("seed", 42, "seed of weight initialisation and shuffling")
	level := fs.String("kernels", "", "kernel level to use ("+strings.Join(kernels.Available(), ", ")+")")
	verbose := fs.Int("verbose", 1, "progress output: 0 none, 1 progress bar, 2 one line per epoch")
	limit := fs.Int("limit", 0, "train on only the first N samples of the training split (0: all 48000)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: simdmlp tutorial [flags]\n\nReplays the Keras tutorial's cells with Go.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	v := map[int]mlp.Verbosity{0: mlp.VerboseSilent, 1: mlp.VerboseBar, 2: mlp.VerboseEpoch}
	verb, ok := v[*verbose]
	if fs.NArg() > 0 || !ok || *epochs < 1 || *limit < 0 {
		fmt.Fprintf(stderr, "simdmlp tutorial: bad arguments (want -verbose 0, 1 or 2, -epochs ≥ 1, -limit ≥ 0, no positional arguments)\n")
		fs.Usage()
		return 2
	}
	if *level != "" {
		restore, err := kernels.Use(*level)
		if err != nil {
			fmt.Fprintf(stderr, "simdmlp tutorial: %v\n", err)
			return 2
		}
		defer restore()
	}
	t := &tutorial{out: stdout, epochs: *epochs, verbose: verb, seed: *seed, limit: *limit}
	if err := t.play(*data); err != nil {
		fmt.Fprintf(stderr, "simdmlp: %v\n", err)
		return 1
	}
	return 0
}

type tutorial struct {
	out     io.Writer
	epochs  int
	verbose mlp.Verbosity
	seed    uint64
	limit   int
	cell    int
}

// in prints a cell's source as the notebook shows it, numbered in order.
func (t *tutorial) in(src string) {
	t.cell++
	fmt.Fprintf(t.out, "\nIn [%d]:\n%s\n\n", t.cell, strings.TrimSpace(src))
}

func (t *tutorial) fit(m *mlp.Sequential, d *split) error {
	h, err := m.Fit(d.xTrain, d.yTrain, mlp.FitConfig{Epochs: t.epochs, Verbose: t.verbose, Out: t.out})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "\n<mlp.History %v>\n", h.Keys)
	return nil
}

func (t *tutorial) evaluate(m *mlp.Sequential, d *split) error {
	sc, err := m.EvaluateWith(d.xVal, d.yVal, mlp.EvalConfig{Verbose: t.verbose, Out: t.out})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "\n[%s, %s]\n", pyFloat(sc.Loss), pyFloat(sc.Accuracy))
	return nil
}

// play runs the notebook's cells in order, from loading the data to the
// model trained with Adam.
func (t *tutorial) play(dir string) error {
	mlp.ResetNames()
	mlp.SetRandomSeed(t.seed)
	fmt.Fprintf(t.out, "simdmlp replay of 혼공머신 7-2 (Keras 2.14 names and output formats; kernels: %s)\n", kernels.Active())
	d, err := t.dataCells(dir)
	if err != nil {
		return err
	}
	m, err := t.sequentialCells()
	if err != nil {
		return err
	}
	if err := t.trainCells(m, d); err != nil {
		return err
	}
	if m, err = t.flattenCells(d); err != nil {
		return err
	}
	if err := t.optimizerCells(m); err != nil {
		return err
	}
	return t.adamCells(d)
}

// dataCells loads Fashion-MNIST and splits off the validation set.
func (t *tutorial) dataCells(dir string) (*split, error) {
	t.in(`from tensorflow import keras
(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()`)
	d, err := loadSplit(dir)
	if err != nil {
		return nil, dataError(err)
	}
	if t.limit > 0 && t.limit < len(d.yTrain) {
		d.xTrain, d.yTrain = d.xTrain[:t.limit*pixels], d.yTrain[:t.limit]
	}
	t.in(`from sklearn.model_selection import train_test_split
train_scaled = train_input / 255.0
train_scaled = train_scaled.reshape(-1, 28*28)
train_scaled, val_scaled, train_target, val_target = train_test_split(
    train_scaled, train_target, test_size=0.2, random_state=42)`)
	fmt.Fprintf(t.out, "train %d × %d, validation %d × %d\n", len(d.yTrain), pixels, len(d.yVal), pixels)
	return d, nil
}

// sequentialCells builds the sigmoid model the notebook's three ways, a
// list of layers, named layers and Add, and returns the last.
func (t *tutorial) sequentialCells() (*mlp.Sequential, error) {
	t.in(`dense1 = keras.layers.Dense(100, activation='sigmoid', input_shape=(784,))
dense2 = keras.layers.Dense(10, activation='softmax')
model = keras.Sequential([dense1, dense2])
model.summary()`)
	m := mlp.NewSequential("", mlp.Dense(100, "sigmoid", mlp.InputShape(784)), mlp.Dense(10, "softmax"))
	if err := m.Summary(t.out); err != nil {
		return nil, err
	}

	t.in(`model = keras.Sequential([
    keras.layers.Dense(100, activation='sigmoid', input_shape=(784,), name='hidden'),
    keras.layers.Dense(10, activation='softmax', name='output')
], name='패션 MNIST 모델')
model.summary()`)
	m = mlp.NewSequential("패션 MNIST 모델",
		mlp.Dense(100, "sigmoid", mlp.InputShape(784), mlp.Name("hidden")),
		mlp.Dense(10, "softmax", mlp.Name("output")))
	if err := m.Summary(t.out); err != nil {
		return nil, err
	}

	t.in(`model = keras.Sequential()
model.add(keras.layers.Dense(100, activation='sigmoid', input_shape=(784,)))
model.add(keras.layers.Dense(10, activation='softmax'))
model.summary()`)
	m = mlp.NewSequential("")
	if err := addAll(m, mlp.Dense(100, "sigmoid", mlp.InputShape(784)), mlp.Dense(10, "softmax")); err != nil {
		return nil, err
	}
	if err := m.Summary(t.out); err != nil {
		return nil, err
	}
	return m, nil
}

// trainCells compiles m with the default optimizer, trains and evaluates
// it.
func (t *tutorial) trainCells(m *mlp.Sequential, d *split) error {
	t.in(fmt.Sprintf(`model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')
model.fit(train_scaled, train_target, epochs=%d)`, t.epochs))
	if err := m.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "(no optimizer given: %v)\n", m.Optimizer())
	if err := t.fit(m, d); err != nil {
		return err
	}
	t.in(`model.evaluate(val_scaled, val_target)`)
	return t.evaluate(m, d)
}

// flattenCells builds, trains and evaluates the ReLU model that takes
// 28×28 images, and returns it.
func (t *tutorial) flattenCells(d *split) (*mlp.Sequential, error) {
	// From here the notebook keeps the images 28×28 and lets Flatten
	// reshape them; the rows are the same 784 values in the same order.
	t.in(`model = keras.Sequential()
model.add(keras.layers.Flatten(input_shape=(28, 28)))
model.add(keras.layers.Dense(100, activation='relu'))
model.add(keras.layers.Dense(10, activation='softmax'))
model.summary()`)
	m, err := reluModel()
	if err != nil {
		return nil, err
	}
	if err := m.Summary(t.out); err != nil {
		return nil, err
	}
	t.in(fmt.Sprintf(`model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')
model.fit(train_scaled, train_target, epochs=%d)`, t.epochs))
	if err := m.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		return nil, err
	}
	if err := t.fit(m, d); err != nil {
		return nil, err
	}
	t.in(`model.evaluate(val_scaled, val_target)`)
	if err := t.evaluate(m, d); err != nil {
		return nil, err
	}
	return m, nil
}

// optimizerCells compiles m with each optimizer the notebook names.
func (t *tutorial) optimizerCells(m *mlp.Sequential) error {
	t.in(`model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics='accuracy')
sgd = keras.optimizers.SGD(learning_rate=0.1)
sgd = keras.optimizers.SGD(momentum=0.9, nesterov=True)
adagrad = keras.optimizers.Adagrad()
rmsprop = keras.optimizers.RMSprop()
adam = keras.optimizers.Adam()`)
	sgd, err := optim.ByName("sgd")
	if err != nil {
		return err
	}
	for _, o := range []optim.Optimizer{sgd, optim.SGD{LearningRate: 0.1}, optim.SGD{Momentum: 0.9, Nesterov: true},
		optim.Adagrad{}, optim.RMSprop{}, optim.Adam{}} {
		if err := m.Compile(o, "sparse_categorical_crossentropy", "accuracy"); err != nil {
			return err
		}
		fmt.Fprintf(t.out, "compiled with %v\n", o)
	}
	return nil
}

// adamCells trains and evaluates a fresh ReLU model with Adam.
func (t *tutorial) adamCells(d *split) error {
	t.in(fmt.Sprintf(`model = keras.Sequential()
model.add(keras.layers.Flatten(input_shape=(28, 28)))
model.add(keras.layers.Dense(100, activation='relu'))
model.add(keras.layers.Dense(10, activation='softmax'))
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='accuracy')
model.fit(train_scaled, train_target, epochs=%d)`, t.epochs))
	m, err := reluModel()
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%v\n", m)
	if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		return err
	}
	if err := t.fit(m, d); err != nil {
		return err
	}
	t.in(`model.evaluate(val_scaled, val_target)`)
	return t.evaluate(m, d)
}

func reluModel() (*mlp.Sequential, error) {
	m := mlp.NewSequential("")
	err := addAll(m, mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dense(10, "softmax"))
	return m, err
}

func addAll(m *mlp.Sequential, layers ...*mlp.Layer) error {
	for _, l := range layers {
		if err := m.Add(l); err != nil {
			return err
		}
	}
	return nil
}
