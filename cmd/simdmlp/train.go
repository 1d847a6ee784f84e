package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/internal/pyfmt"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// trainConfig is what the train command's flags say.
type trainConfig struct {
	hidden     []int
	activation string
	dropout    float64
	optimizer  optim.Optimizer
	epochs     int
	batch      int
	seed       uint64
	dataDir    string
	level      string
	threads    int
	verbose    mlp.Verbosity
	jsonPath   string
	limit      int
	savePath   string
	plotPath   string
	patience   int // -1: no early stopping
	checkpoint string
	csvPath    string
}

// usageError is a bad flag value: the command prints it with the usage and
// exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseTrainFlags(args []string, stderr io.Writer) (trainConfig, error) {
	fs := flag.NewFlagSet("simdmlp train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hidden := fs.String("hidden", "100", "hidden layer sizes, comma-separated (e.g. 100,50)")
	act := fs.String("activation", "relu", "hidden layers' activation: "+strings.Join(kernels.ActivationNames(), ", "))
	dropout := fs.Float64("dropout", 0, "Dropout rate after each hidden layer, in [0, 1) (chapter 7-3 uses 0.3); 0 adds none")
	opt := fs.String("optimizer", "adam", "optimizer: "+strings.Join(optim.Names(), ", ")+" (any case)")
	lr := fs.Float64("lr", 0, "learning rate; 0 means the optimizer's Keras default")
	epochs := fs.Int("epochs", 5, "training epochs")
	batch := fs.Int("batch", 32, "batch size")
	seed := fs.Uint64("seed", 42, "seed of weight initialisation and shuffling")
	data := fs.String("data", "", "directory holding Fashion-MNIST's four files, used alone, never downloaded into (default: $SIMDMLP_DATA when set, likewise; "+
		"else search Debian's package, the Keras cache, the user cache, then download)")
	level := fs.String("kernels", "", "kernel level to use ("+strings.Join(kernels.Available(), ", ")+"); default: the fastest")
	threads := fs.Int("threads", 0, "cores the kernels may use (more than GOMAXPROCS do not run in parallel); "+
		"0 means min(GOMAXPROCS, CPUs); the results are the same for any count")
	verbose := fs.Int("verbose", 1, "progress output: 0 none, 1 progress bar, 2 one line per epoch")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	limit := fs.Int("limit", 0, "train on only the first N samples of the training split (0: all 48000)")
	save := fs.String("save", "", "save the trained model to this safetensors file (see 'simdmlp evaluate')")
	patience := fs.Int("patience", -1, "stop early when val_loss has not improved for this many epochs and keep the best epoch's weights "+
		"(Keras's EarlyStopping(patience=N, restore_best_weights=True)); -1: train every epoch")
	checkpoint := fs.String("checkpoint", "", "save the model of the epoch with the lowest val_loss to this safetensors file "+
		"(Keras's ModelCheckpoint(save_best_only=True))")
	csvPath := fs.String("csv", "", "log loss and accuracy per epoch to this CSV file (Keras's CSVLogger)")
	plotPath := fs.String("plot", "", "draw loss and accuracy per epoch, training and validation, into this PNG file "+
		"(validation then runs after each epoch)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: simdmlp train [flags]\n\n"+
			"Trains an MLP on Fashion-MNIST with the tutorial's 80/20 split (seed 42) and\n"+
			"reports the validation and test results.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return trainConfig{}, err
	}
	bad := func(format string, a ...any) (trainConfig, error) {
		return trainConfig{}, usageError{fmt.Sprintf(format, a...)}
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	c := trainConfig{activation: *act, dropout: *dropout, epochs: *epochs, batch: *batch, seed: *seed, dataDir: *data,
		level: *level, threads: *threads, jsonPath: *jsonPath, limit: *limit, savePath: *save, plotPath: *plotPath,
		patience: *patience, checkpoint: *checkpoint, csvPath: *csvPath}
	if c.plotPath != "" {
		if err := checkPNGPath("-plot", c.plotPath); err != nil {
			return trainConfig{}, err
		}
	}
	if c.patience < -1 {
		return bad("-patience %d: want a number of epochs ≥ 0, or -1 for none", c.patience)
	}
	if err := distinctOutputs([][2]string{{"-save", c.savePath}, {"-plot", c.plotPath}, {"-json", c.jsonPath},
		{"-checkpoint", c.checkpoint}, {"-csv", c.csvPath}}); err != nil {
		return trainConfig{}, err
	}
	for _, f := range strings.Split(*hidden, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return bad("-hidden %q: want positive integers separated by commas", *hidden)
		}
		c.hidden = append(c.hidden, n)
	}
	if _, err := kernels.ParseActivation(*act); err != nil || *act == "" {
		return bad("-activation %q: want one of %s", *act, strings.Join(kernels.ActivationNames(), ", "))
	}
	o, err := optim.ByName(*opt)
	if err != nil {
		return bad("-optimizer: %v", err)
	}
	if math.IsNaN(*lr) || math.IsInf(*lr, 0) || *lr < 0 {
		return bad("-lr %v: want a finite number ≥ 0 (0 means the optimizer's default)", *lr)
	}
	if c.optimizer, err = withLearningRate(o, *lr); err != nil {
		return bad("-lr: %v", err)
	}
	if !(c.dropout >= 0 && c.dropout < 1) {
		return bad("-dropout %v: want a rate in [0, 1)", c.dropout)
	}
	if c.epochs < 1 {
		return bad("-epochs %d: must be at least 1", c.epochs)
	}
	if c.batch < 1 {
		return bad("-batch %d: must be at least 1", c.batch)
	}
	if c.limit < 0 {
		return bad("-limit %d: must not be negative", c.limit)
	}
	if c.threads < 0 {
		return bad("-threads %d: must not be negative (0 means the default)", c.threads)
	}
	switch *verbose {
	case 0:
		c.verbose = mlp.VerboseSilent
	case 1:
		c.verbose = mlp.VerboseBar
	case 2:
		c.verbose = mlp.VerboseEpoch
	default:
		return bad("-verbose %d: want 0, 1 or 2", *verbose)
	}
	if c.level != "" {
		found := false
		for _, l := range kernels.Available() {
			found = found || l == strings.ToLower(c.level)
		}
		if !found {
			return bad("-kernels %q: this CPU offers %s", c.level, strings.Join(kernels.Available(), ", "))
		}
	}
	return c, nil
}

// withLearningRate returns o with its learning rate set (0 keeps Keras's
// default), and checks the configuration.
func withLearningRate(o optim.Optimizer, lr float64) (optim.Optimizer, error) {
	o, err := optim.WithLearningRate(o, lr)
	if err != nil {
		return nil, err
	}
	if _, err := o.Build(nil); err != nil {
		return nil, err
	}
	return o, nil
}

// report is the JSON the -json flag writes.
type report struct {
	ValLoss      float64 `json:"val_loss"`
	ValAccuracy  float64 `json:"val_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"`
	TrainSeconds float64 `json:"train_seconds"`
	Epochs       int     `json:"epochs"`
	// Interrupted is set when Ctrl-C stopped the training early: the
	// figures are then those of the weights it had reached.
	Interrupted bool   `json:"interrupted,omitempty"`
	Kernels     string `json:"kernels"`
	Threads     int    `json:"threads"`
}

func runTrain(args []string, stdout, stderr io.Writer) int {
	c, err := parseTrainFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "simdmlp train: %v\nRun 'simdmlp train -h' for the flags.\n", err)
		return 2
	}
	if err != nil {
		return 2 // the flag package has printed the error and the usage
	}
	if c.level != "" {
		restore, err := kernels.Use(c.level)
		if err != nil {
			fmt.Fprintf(stderr, "simdmlp train: %v\n", err)
			return 2
		}
		defer restore()
	}
	if c.threads > 0 {
		// The setting is process-wide; restore it for callers that run
		// the command in-process (the tests).
		defer kernels.SetThreads(kernels.SetThreads(c.threads))
	}
	// Ctrl-C (or SIGTERM) stops the training after the current step;
	// the run then reports and writes what it was asked to with the
	// weights it reached. A second Ctrl-C kills it as usual: the context
	// stops listening once the first has arrived.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	err = train(ctx, c, stdout)
	if errors.Is(err, errInterrupted) {
		fmt.Fprintf(stderr, "simdmlp train: interrupted\n")
		return 130 // as a shell reports a process ended by SIGINT
	}
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp: %v\n", err)
		return 1
	}
	return 0
}

// errInterrupted is train's error when ctx ended the training early and
// everything else succeeded.
var errInterrupted = errors.New("training interrupted")

// train does the train command's work once its flags are checked and the
// kernels chosen: it trains, evaluates and reports on stdout, then writes
// the outputs the flags ask for.
//
// When ctx ends during training, Fit stops after its current step and the
// run goes on with the weights it reached (evaluation, -save, -plot,
// -json), then returns errInterrupted.
func train(ctx context.Context, c trainConfig, stdout io.Writer) error {
	// Every output is proven writable before any work, so that a long
	// run does not end in an error it could have given first.
	for _, p := range []string{c.savePath, c.plotPath, c.jsonPath, c.checkpoint, c.csvPath} {
		if p == "" {
			continue
		}
		if err := atomicfile.CheckWritable(p); err != nil {
			return err
		}
	}
	m, err := newTrainModel(c)
	if err != nil {
		return err
	}
	d, err := loadSplit(c.dataDir)
	if err != nil {
		return dataError(err)
	}
	xt, yt := d.xTrain, d.yTrain
	if c.limit > 0 && c.limit < len(yt) {
		xt, yt = xt[:c.limit*pixels], yt[:c.limit]
	}

	fmt.Fprintf(stdout, "kernels: %s (available: %s), threads: %d\n", kernels.Active(), strings.Join(kernels.Available(), ", "), kernels.Threads())
	if err := m.Summary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "optimizer: %v\n", c.optimizer)
	fmt.Fprintf(stdout, "training on %d samples, validating on %d\n", len(yt), len(d.yVal))
	hist, elapsed, err := fitTimed(ctx, c, m, d, xt, yt, stdout)
	interrupted := errors.Is(err, context.Canceled)
	if interrupted {
		fmt.Fprintf(stdout, "interrupted: %v\n", withoutMLP(err))
	} else if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "validation:")
	val, err := m.EvaluateWith(d.xVal, d.yVal, mlp.EvalConfig{Verbose: c.verbose, Out: stdout})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "[%s, %s]\n", pyFloat(val.Loss), pyFloat(val.Accuracy))
	test, err := m.EvaluateWith(d.xTest, d.yTest, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy: %.4f (loss %.4f) on %d samples\n", test.Accuracy, test.Loss, len(d.yTest))
	// Early stopping and Ctrl-C end a run before c.epochs: report the
	// epochs that ran (an interrupted one counts as started).
	epochs := len(hist.Epoch)
	if interrupted {
		epochs++
	}
	fmt.Fprintf(stdout, "training time: %.2fs (%.2f s/epoch, %d epochs, kernels %s, %d threads)\n",
		elapsed.Seconds(), elapsed.Seconds()/float64(max(epochs, 1)), epochs, kernels.Active(), kernels.Threads())

	r := report{ValLoss: val.Loss, ValAccuracy: val.Accuracy, TestLoss: test.Loss, TestAccuracy: test.Accuracy,
		TrainSeconds: elapsed.Seconds(), Epochs: len(hist.Epoch), Kernels: kernels.Active(),
		Threads: kernels.Threads(), Interrupted: interrupted}
	if err := writeTrainOutputs(c, m, hist, r, stdout); err != nil {
		return err
	}
	if interrupted {
		return errInterrupted
	}
	return nil
}

// newTrainModel returns the model the flags describe, compiled and built.
// The model is made before the data are read, compiled before it is
// built: Build then checks the size of the whole model with its gradients
// and optimizer against the machine before it allocates any weight, and a
// model that cannot be had should not wait for 60 000 images first.
func newTrainModel(c trainConfig) (*mlp.Sequential, error) {
	mlp.SetRandomSeed(c.seed)
	layers := []*mlp.Layer{mlp.Flatten()}
	for _, h := range c.hidden {
		layers = append(layers, mlp.Dense(h, c.activation))
		if c.dropout > 0 {
			layers = append(layers, mlp.Dropout(c.dropout))
		}
	}
	layers = append(layers, mlp.Dense(10, "softmax"))
	m := mlp.NewSequential("", layers...)
	err := m.Compile(c.optimizer, "sparse_categorical_crossentropy", "accuracy")
	if err == nil {
		err = m.Build(28, 28)
	}
	if err != nil {
		return nil, withoutMLP(err)
	}
	return m, nil
}

// fitTimed trains m on xt and yt as the flags say and returns the history
// and the time it took; a run whose loss or weights are not finite is an
// error.
//
// When ctx ends first, it returns the History of the completed epochs with
// an error matching context.Canceled, after the same checks.
func fitTimed(ctx context.Context, c trainConfig, m *mlp.Sequential, d *split, xt []float32, yt []int32, stdout io.Writer) (*mlp.History, time.Duration, error) {
	fc := mlp.FitConfig{Epochs: c.epochs, BatchSize: c.batch, Verbose: c.verbose, Out: stdout, Seed: c.seed}
	if c.plotPath != "" || c.patience >= 0 || c.checkpoint != "" {
		// The curves and the callbacks need the validation results of
		// every epoch; without them the run prints what it always did.
		fc.ValidationData = &mlp.Data{X: d.xVal, Y: d.yVal}
	}
	var early *mlp.EarlyStopping
	if c.checkpoint != "" {
		fc.Callbacks = append(fc.Callbacks, &mlp.ModelCheckpoint{Path: c.checkpoint, SaveBestOnly: true})
	}
	if c.patience >= 0 {
		early = &mlp.EarlyStopping{Patience: c.patience, RestoreBestWeights: true, Verbose: c.verbose != mlp.VerboseSilent}
		fc.Callbacks = append(fc.Callbacks, early)
	}
	if c.csvPath != "" {
		fc.Callbacks = append(fc.Callbacks, &mlp.CSVLogger{Path: c.csvPath})
	}
	start := time.Now()
	hist, err := m.FitContext(ctx, xt, yt, fc)
	elapsed := time.Since(start)
	stopped := errors.Is(err, context.Canceled)
	if err != nil && !stopped {
		return nil, 0, withoutMLP(err)
	}
	if msg := diverged(m, hist); msg != "" {
		return nil, 0, fmt.Errorf("the run diverged: %s; nothing was saved (try a lower -lr)", msg)
	}
	if early != nil && early.StoppedEpoch > 0 {
		fmt.Fprintf(stdout, "stopped early after epoch %d; the weights are those of epoch %d (val_loss %s)\n",
			early.StoppedEpoch+1, early.BestEpoch()+1, pyFloat(early.Best()))
	}
	return hist, elapsed, err
}

// writeTrainOutputs saves the model, draws the curves and writes the JSON
// report, each when its flag names a file.
func writeTrainOutputs(c trainConfig, m *mlp.Sequential, hist *mlp.History, r report, stdout io.Writer) error {
	if c.savePath != "" {
		if err := m.Save(c.savePath); err != nil {
			return withoutMLP(err)
		}
		fmt.Fprintf(stdout, "model saved to %s\n", c.savePath)
	}
	if c.plotPath != "" && len(hist.Epoch) == 0 {
		fmt.Fprintf(stdout, "no epoch completed: %s not drawn\n", c.plotPath)
	} else if c.plotPath != "" {
		if err := plotHistory(hist, c.plotPath); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "training curves drawn in %s\n", c.plotPath)
	}
	if c.jsonPath != "" {
		if err := writeJSON(c.jsonPath, r); err != nil {
			return err
		}
	}
	return nil
}

// withoutMLP drops the "mlp: " that package mlp starts its errors with,
// which the command's own "simdmlp: " makes redundant.
func withoutMLP(err error) error {
	return trimmedError{strings.TrimPrefix(err.Error(), "mlp: "), err}
}

// trimmedError is an error with a shorter message that still matches
// what the original matches (errors.Is, errors.As).
type trimmedError struct {
	msg string
	err error
}

func (e trimmedError) Error() string { return e.msg }
func (e trimmedError) Unwrap() error { return e.err }

// pyFloat formats v as Python's repr of a float: the shortest text that
// reads back as v, e.g. 0.8725833296775818.
func pyFloat(v float64) string { return pyfmt.Repr(v) }

// writeJSON writes r to path atomically (see package atomicfile): a reader
// never sees half a file and a failed run leaves any previous file intact.
func writeJSON(path string, r report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// diverged describes how training went wrong, or returns "" when the
// loss and every weight are finite.
func diverged(m *mlp.Sequential, h *mlp.History) string {
	for e, l := range h.History["loss"] {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Sprintf("the loss was %v in epoch %d", l, h.Epoch[e]+1)
		}
	}
	names := m.WeightNames()
	for i, w := range m.Weights() {
		for j, v := range w {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Sprintf("weight %s holds %v at index %d", strings.TrimSuffix(names[i], ":0"), v, j)
			}
		}
	}
	return ""
}

// distinctOutputs refuses two output flags naming the same file, which
// would leave only the last one written.
func distinctOutputs(outs [][2]string) error {
	seen := map[string]string{}
	var stats []os.FileInfo
	var flags []string
	for _, o := range outs {
		if o[1] == "" {
			continue
		}
		abs, err := filepath.Abs(o[1])
		if err != nil {
			abs = filepath.Clean(o[1])
		}
		if f, dup := seen[abs]; dup {
			return usageError{fmt.Sprintf("%s and %s both name %s; give each output its own file", f, o[0], o[1])}
		}
		seen[abs] = o[0]
		// Two names of one existing file (a link, a relative path
		// through a symbolic link) are the same output too.
		if fi, err := os.Stat(o[1]); err == nil {
			for i, s := range stats {
				if os.SameFile(s, fi) {
					return usageError{fmt.Sprintf("%s and %s name the same file %s", flags[i], o[0], o[1])}
				}
			}
			stats, flags = append(stats, fi), append(flags, o[0])
		}
	}
	return nil
}

const pixels = 28 * 28

// split is the tutorial's data: the 80/20 split of the training set with
// scikit-learn's train_test_split(random_state=42), and the test set.
type split struct {
	xTrain, xVal, xTest []float32
	yTrain, yVal, yTest []int32
}

func loadSplit(dir string) (*split, error) {
	train, test, err := mnist.LoadFashion(dir)
	if err != nil {
		return nil, err
	}
	s, err := splitTrain(train.Scaled(), train.Labels)
	if err != nil {
		return nil, err
	}
	s.xTest, s.yTest = test.Scaled(), test.Labels
	return s, nil
}

// splitTrain divides scaled training rows (pixels values each) and their
// labels as train_test_split(x, y, test_size=0.2, random_state=42) does.
// The test fields are left empty.
func splitTrain(x []float32, labels []int32) (*split, error) {
	tr, va := mnist.TrainTestSplit(len(labels), 0.2, 42)
	s := &split{
		xTrain: make([]float32, len(tr)*pixels), yTrain: make([]int32, len(tr)),
		xVal: make([]float32, len(va)*pixels), yVal: make([]int32, len(va)),
	}
	for _, err := range []error{
		mnist.GatherRows(s.xTrain, x, pixels, tr), mnist.GatherRows(s.yTrain, labels, 1, tr),
		mnist.GatherRows(s.xVal, x, pixels, va), mnist.GatherRows(s.yVal, labels, 1, va),
	} {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// dataError rewords a data loading error as the one line the user sees.
func dataError(err error) error {
	switch {
	case errors.Is(err, mnist.ErrNotFound):
		return fmt.Errorf("Fashion-MNIST is not available: %w", err)
	case errors.Is(err, mnist.ErrCorrupt):
		return fmt.Errorf("Fashion-MNIST files are damaged: %w", err)
	}
	return err
}
