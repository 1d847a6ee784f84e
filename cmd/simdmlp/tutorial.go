package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// A chapter is one notebook of the Keras tutorial (혼공머신) that
// `simdmlp tutorial` replays. cells is nil for a chapter that is planned
// but not written yet. files is set for a chapter whose notebook writes
// files (models, figures), which the replay puts in the -out directory.
type chapter struct {
	name  string
	cells func(t *replay) []cell
	files bool
}

// chapters lists the notebooks in the book's order; the first is the
// default.
var chapters = []chapter{
	{name: "7-2", cells: cells72},
	{name: "7-3", cells: cells73, files: true},
}

// findChapter returns the chapter called name, or an error for the user.
func findChapter(name string) (chapter, error) {
	for _, c := range chapters {
		if c.name == name && c.cells == nil {
			return c, fmt.Errorf("chapter %s is not replayed yet", name)
		}
		if c.name == name {
			return c, nil
		}
	}
	return chapter{}, fmt.Errorf("unknown chapter %q (chapters: %s)", name, readyChapters())
}

// readyChapters lists the chapters that can be replayed.
func readyChapters() string {
	var ready []string
	for _, c := range chapters {
		if c.cells != nil {
			ready = append(ready, c.name)
		}
	}
	return strings.Join(ready, ", ")
}

// tutorialArgs is what the command line of `simdmlp tutorial` asks for.
type tutorialArgs struct {
	chapter chapter
	level   string
	replay  replay
}

// runTutorial replays a chapter of the Keras tutorial cell by cell: each
// code cell's Python source under its cell number (the notebook's own for
// 7-2, ours for 7-3, whose notebook is not kept), then what Keras printed
// for it, with this package's own numbers.
func runTutorial(args []string, stdout, stderr io.Writer) int {
	a, code := parseTutorialArgs(args, stderr)
	if a == nil {
		return code
	}
	if a.level != "" {
		restore, err := kernels.Use(a.level)
		if err != nil {
			fmt.Fprintf(stderr, "simdmlp tutorial: %v\n", err)
			return 2
		}
		defer restore()
	}
	a.replay.out = stdout
	if err := a.replay.play(a.chapter); err != nil {
		fmt.Fprintf(stderr, "simdmlp: %v\n", err)
		return 1
	}
	return 0
}

// parseTutorialArgs reads the optional chapter (before or after the flags)
// and the flags. On nil it has reported the problem, or the help, and the
// command exits with the status returned.
func parseTutorialArgs(args []string, stderr io.Writer) (*tutorialArgs, int) {
	fs := flag.NewFlagSet("simdmlp tutorial", flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := &tutorialArgs{}
	fs.StringVar(&a.replay.dataDir, "data", "", "directory holding Fashion-MNIST's four files (default: search, then download)")
	fs.IntVar(&a.replay.epochs, "epochs", 0, "epochs of every fit (0: the notebook's own, 5 in 7-2, 5 to 20 in 7-3)")
	fs.Uint64Var(&a.replay.seed, "seed", 42, "seed of weight initialisation and shuffling")
	fs.StringVar(&a.level, "kernels", "", "kernel level to use ("+strings.Join(kernels.Available(), ", ")+")")
	verbose := fs.Int("verbose", 1, "progress output of the calls that leave verbose to Keras's default (7-2: fit and evaluate; 7-3: evaluate and predict, its fits say verbose=0): 0 none, 1 progress bar, 2 one line per call or epoch")
	fs.IntVar(&a.replay.limit, "limit", 0, "train on only the first N samples of the training split (0: all 48000)")
	fs.StringVar(&a.replay.dir, "out", "", "directory for the files a chapter writes (7-3: models and figures), made if missing (default: a new temporary directory, printed at the start)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: simdmlp tutorial [chapter] [flags]\n\n"+
			"Replays a chapter of the Keras tutorial (혼공머신) cell by cell with Go.\n"+
			"chapters: %s (default %s)\n"+
			"  7-2  deep neural networks: Dense layers, summary, optimizers\n"+
			"  7-3  training a neural network model: loss curves, validation loss, Dropout,\n"+
			"       saving and loading, ModelCheckpoint and EarlyStopping. Its notebook's\n"+
			"       .h5 files are .safetensors files here and its matplotlib figures PNG\n"+
			"       files, all in the -out directory.\n\nflags:\n", readyChapters(), chapters[0].name)
		fs.PrintDefaults()
	}
	var names []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		names, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	names = append(names, fs.Args()...)
	v := map[int]mlp.Verbosity{0: mlp.VerboseSilent, 1: mlp.VerboseBar, 2: mlp.VerboseEpoch}
	verb, ok := v[*verbose]
	if len(names) > 1 || !ok || a.replay.epochs < 0 || a.replay.limit < 0 {
		fmt.Fprintf(stderr, "simdmlp tutorial: bad arguments (want at most one chapter, -verbose 0, 1 or 2, -epochs ≥ 0, -limit ≥ 0)\n")
		fs.Usage()
		return nil, 2
	}
	a.replay.verbose = verb
	name := chapters[0].name
	if len(names) == 1 {
		name = names[0]
	}
	c, err := findChapter(name)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp tutorial: %v\n", err)
		fs.Usage()
		return nil, 2
	}
	a.chapter = c
	return a, 0
}

// A cell is one code cell of a notebook: its execution count, as the
// notebook shows it in "In [n]:", and its source, statement by statement.
type cell struct {
	n     int
	steps []step
}

// A step is one statement of a cell's source (a line or several; a
// comment or a blank line counts too) and the Go that does what it does.
// run is nil where there is nothing to do: comments, blank lines, and
// statements whose work Go does elsewhere, such as imports, which Go
// resolves when the command is built. Such statements are still shown, so
// that the replay shows each cell's source whole. run's value, if the step
// is the last statement of its cell, is shown after the cell as Jupyter
// shows the value of a cell's last expression; statements give nil.
type step struct {
	src string
	run func() (any, error)
}

// show is a statement with nothing to run.
func show(src string) step { return step{src: src} }

// do is a statement that runs f and has no value.
func do(src string, f func() error) step {
	return step{src: src, run: func() (any, error) { return nil, f() }}
}

// replay holds the flags of a replay and the Python variables that the
// cells of every chapter share.
type replay struct {
	out     io.Writer
	dataDir string
	epochs  int
	verbose mlp.Verbosity
	seed    uint64
	limit   int
	dir     string // -out: where the chapter's files go

	trainInput *mnist.Dataset  // train_input and train_target
	scaled     []float32       // train_scaled before it is split
	data       *split          // train_scaled, val_scaled, train_target, val_target
	model      *mlp.Sequential // model

	cellN     int                  // the number of the cell being run
	histories map[int]*mlp.History // each cell's last History, which tests compare with the output
}

// play runs the chapter's cells in order from a fresh Keras session.
func (t *replay) play(c chapter) error {
	mlp.ResetNames()
	mlp.SetRandomSeed(t.seed)
	fmt.Fprintf(t.out, "simdmlp replay of 혼공머신 %s (Keras 2.14 names and output formats; kernels: %s)\n", c.name, kernels.Active())
	if c.files {
		if err := t.makeDir(c.name); err != nil {
			return err
		}
		fmt.Fprintf(t.out, "files written in %s\n", t.dir)
	}
	t.histories = map[int]*mlp.History{}
	for _, cl := range c.cells(t) {
		if err := t.run(cl); err != nil {
			return err
		}
	}
	return nil
}

// makeDir makes the -out directory, or without -out a new temporary one:
// a replay run twice from the same shell should neither scatter models
// and figures over the current directory nor overwrite an earlier run's.
func (t *replay) makeDir(chapter string) error {
	if t.dir == "" {
		d, err := os.MkdirTemp("", "simdmlp-"+chapter+"-")
		if err != nil {
			return fmt.Errorf("tutorial %s: %w", chapter, err)
		}
		t.dir = d
		return nil
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("tutorial %s: -out: %w", chapter, err)
	}
	return nil
}

// epochsOr is the epochs of a fit that the notebook runs for n: -epochs
// when given, else n.
func (t *replay) epochsOr(n int) int {
	if t.epochs > 0 {
		return t.epochs
	}
	return n
}

// run shows a cell's source, runs its statements and shows the value of
// its last one.
func (t *replay) run(c cell) error {
	t.cellN = c.n
	t.showSource(c)
	var last any
	for _, s := range c.steps {
		if s.comment() {
			continue
		}
		last = nil
		if s.run == nil {
			continue
		}
		v, err := s.run()
		if err != nil {
			return err
		}
		last = v
	}
	t.display(last)
	return nil
}

// showSource prints the cell's number and code as the notebook shows them.
func (t *replay) showSource(c cell) {
	fmt.Fprintf(t.out, "\nIn [%d]:\n%s\n\n", c.n, c.source())
}

// source is the cell's code, its statements one after another.
func (c cell) source() string {
	lines := make([]string, len(c.steps))
	for i, s := range c.steps {
		lines[i] = s.src
	}
	return strings.Join(lines, "\n")
}

// comment reports whether s is only a comment or a blank line.
func (s step) comment() bool {
	src := strings.TrimSpace(s.src)
	return src == "" || strings.HasPrefix(src, "#")
}

// display prints a cell's value as Jupyter's Out does, with Go's names.
func (t *replay) display(v any) {
	switch v := v.(type) {
	case nil:
	case *mlp.History:
		fmt.Fprintf(t.out, "\n<mlp.History %v>\n", v.Keys)
	case mlp.Scores:
		fmt.Fprintf(t.out, "\n[%s, %s]\n", pyFloat(v.Loss), pyFloat(v.Accuracy))
	default:
		fmt.Fprintf(t.out, "\n%v\n", v)
	}
}

// The steps below are the statements the chapters have in common; src is
// the statement as the notebook writes it.

// loadData is `(train_input, train_target), (test_input, test_target) =
// keras.datasets.fashion_mnist.load_data()`. The chapters never use the
// test set, so it is not kept.
func (t *replay) loadData(src string) step {
	return do(src, func() error {
		train, _, err := mnist.LoadFashion(t.dataDir)
		if err != nil {
			return dataError(err)
		}
		t.trainInput = train
		return nil
	})
}

// scale is `train_scaled = train_input / 255.0`. Whether the notebook then
// reshapes the images to rows of 784 or leaves them 28×28 for a Flatten
// layer, the values are the same in the same order, so Go keeps them flat.
func (t *replay) scale(src string) step {
	return do(src, func() error {
		t.scaled = t.trainInput.Scaled()
		return nil
	})
}

// split is `train_scaled, val_scaled, train_target, val_target =
// train_test_split(train_scaled, train_target, test_size=0.2,
// random_state=42)`; -limit then keeps only the first samples for
// training.
func (t *replay) split(src string) step {
	return do(src, func() error {
		d, err := splitTrain(t.scaled, t.trainInput.Labels)
		if err != nil {
			return err
		}
		if t.limit > 0 && t.limit < len(d.yTrain) {
			d.xTrain, d.yTrain = d.xTrain[:t.limit*pixels], d.yTrain[:t.limit]
		}
		t.data, t.scaled = d, nil
		return nil
	})
}

// sequential is `model = keras.Sequential(…)`; layers makes the layers
// when the statement runs, so that they take their automatic names in the
// notebook's order.
func (t *replay) sequential(src, name string, layers func() []*mlp.Layer) step {
	return do(src, func() error {
		var ls []*mlp.Layer
		if layers != nil {
			ls = layers()
		}
		t.model = mlp.NewSequential(name, ls...)
		return nil
	})
}

// add is `model.add(…)`.
func (t *replay) add(src string, layer func() *mlp.Layer) step {
	return do(src, func() error { return t.model.Add(layer()) })
}

// summary is `model.summary()`.
func (t *replay) summary(src string) step {
	return do(src, func() error { return t.model.Summary(t.out) })
}

// compile is `model.compile(optimizer=…, loss='sparse_categorical_crossentropy',
// metrics='accuracy')` with the optimizer opt returns when the statement
// runs; nil is Keras's default.
func (t *replay) compile(src string, opt func() optim.Optimizer) step {
	return do(src, func() error {
		var o optim.Optimizer
		if opt != nil {
			o = opt()
		}
		return t.model.Compile(o, "sparse_categorical_crossentropy", "accuracy")
	})
}

// compileNamed is compile with the optimizer given as Keras's string, such
// as optimizer='adam'.
func (t *replay) compileNamed(src, optimizer string) step {
	return do(src, func() error {
		return t.model.CompileNamed(optimizer, "sparse_categorical_crossentropy", "accuracy")
	})
}

// fit is `model.fit(train_scaled, train_target, epochs=…)` of chapter
// 7-2, which fits 5 epochs unless -epochs says otherwise; src has a %d for
// them.
func (t *replay) fit(src string) step {
	epochs := t.epochsOr(5)
	return step{src: fmt.Sprintf(src, epochs), run: func() (any, error) {
		h, err := t.model.Fit(t.data.xTrain, t.data.yTrain, mlp.FitConfig{Epochs: epochs, Verbose: t.verbose, Out: t.out})
		if err != nil {
			return nil, err
		}
		t.histories[t.cellN] = h
		return h, nil
	}}
}

// evaluate is `model.evaluate(val_scaled, val_target)`.
func (t *replay) evaluate(src string) step {
	return step{src: src, run: func() (any, error) {
		sc, err := t.model.EvaluateWith(t.data.xVal, t.data.yVal, mlp.EvalConfig{Verbose: t.verbose, Out: t.out})
		if err != nil {
			return nil, err
		}
		return sc, nil
	}}
}
