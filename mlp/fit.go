package mlp

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"time"

	"github.com/simdmlp/simdmlp/kernels"
)

// Data is a set of inputs and labels, such as FitConfig's ValidationData.
type Data struct {
	X []float32 // n × input size, row-major
	Y []int32   // n class indices
}

// FitConfig holds Fit's arguments. Its zero value is Keras's defaults:
// batches of 32, one epoch, shuffling, the progress bar on standard output.
type FitConfig struct {
	// Epochs is the number of passes over the data; 0 means 1.
	Epochs int
	// BatchSize is the number of samples per step; 0 means 32. The last
	// batch of an epoch may be smaller; a BatchSize above the number of
	// samples means one batch of all of them.
	BatchSize int
	// Verbose selects the progress output; the zero value is the bar.
	Verbose Verbosity
	// Out receives the progress output; nil means os.Stdout.
	Out io.Writer
	// NoShuffle keeps the samples in order (Keras's shuffle=False). By
	// default each epoch draws a fresh permutation.
	NoShuffle bool
	// Seed seeds the shuffling. 0 draws a seed from the generator that
	// SetRandomSeed seeds.
	Seed uint64
	// InitialEpoch is the epoch to start at, as Keras's initial_epoch:
	// Fit runs epochs InitialEpoch to Epochs-1 (none when InitialEpoch ≥
	// Epochs), numbered so in History and the progress output. Each
	// epoch's shuffle depends only on Seed and the epoch's number, so a
	// model saved with its optimizer after epoch InitialEpoch, loaded,
	// and fitted on the same data with the same Seed ends with the bits
	// of a run that never stopped.
	InitialEpoch int
	// ValidationData, if set, is evaluated after each epoch; its results
	// appear as val_loss and val_accuracy.
	ValidationData *Data
	// ValidationSplit, used when ValidationData is nil, holds out the last
	// fraction of x and y (before any shuffling) for validation, as
	// Keras's validation_split. It must lie in [0, 1).
	ValidationSplit float64
	// ValidationBatchSize is the validation batch size; 0 means BatchSize.
	ValidationBatchSize int
	// Now is the clock of the progress output; nil means time.Now. Tests
	// set it to check exact lines.
	Now func() time.Time
	// Callbacks are told of the training's events, in order, as Keras's
	// callbacks= (see Callback).
	Callbacks []Callback
}

// History is what Fit returns, as keras.callbacks.History.
type History struct {
	// History maps each metric name (loss, accuracy, val_loss,
	// val_accuracy) to its value at the end of each epoch.
	History map[string][]float64
	// Epoch lists the epoch indices, 0-based.
	Epoch []int
	// Keys lists the names of History in Keras's order.
	Keys []string
}

// Scores is what Evaluate returns: the mean loss and the accuracy over the
// samples, as float32 values widened to float64 (Keras's numbers).
type Scores struct {
	Loss     float64
	Accuracy float64
}

// meanMetric is Keras's Mean metric: float32 total and count.
type meanMetric struct{ total, count float32 }

func (m *meanMetric) add(v, weight float32) { m.total += v * weight; m.count += weight }
func (m *meanMetric) result() float64 {
	if m.count == 0 {
		return 0
	}
	return float64(m.total / m.count)
}

// Fit trains the model on x (n × input size) and y, as Keras's fit, and
// returns the History. Each epoch shuffles the samples (unless NoShuffle),
// runs ceil(n/BatchSize) steps keeping the partial last batch, and shows
// the running loss (batch-size-weighted mean) and accuracy (correct/seen)
// of the predictions made before each step's update. A BatchSize larger
// than n trains on all of the data in one step, as Keras does. Fitting
// again continues from the current weights and optimizer state.
//
// Every argument is checked before anything changes: on error the model is
// unchanged. An unbuilt model is built from the data. The epochs are not
// limited, but the optimizer steps they take must stay within
// optim.MaxIterations, and the model, its optimizer and its batch buffers
// within the machine's memory; Fit checks both before it starts. A model
// trains in one goroutine at a time: a Fit (or any other call) while one
// is running returns ErrConcurrentUse.
//
// FitConfig.Callbacks are told of every epoch and may stop training early
// (see Callback, EarlyStopping, ModelCheckpoint). An error from a callback
// ends Fit with that error and the History of the epochs that completed.
func (m *Sequential) Fit(x []float32, y []int32, cfg FitConfig) (*History, error) {
	return m.FitContext(context.Background(), x, y, cfg)
}

// FitContext is Fit that stops when ctx is done: between two steps, so the
// model holds the weights of the last completed step and can be saved,
// evaluated or fitted again. It then returns the History of the epochs
// that completed and an error that matches ctx.Err() (errors.Is), after
// the callbacks' OnTrainEnd.
func (m *Sequential) FitContext(ctx context.Context, x []float32, y []int32, cfg FitConfig) (*History, error) {
	if err := checkFitConfig(cfg); err != nil {
		return nil, err
	}
	if m.err != nil {
		return nil, m.err
	}
	if err := m.acquire("Fit"); err != nil {
		return nil, err
	}
	defer m.release()
	p, err := m.planFit(x, y, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.prepareTraining(); err != nil {
		return nil, err
	}
	m.ensure(p.rows)
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	mode := cfg.Verbose.mode()
	t := &Training{m: m, out: out, verbose: mode, epochs: p.epochs, steps: p.steps}
	cb, err := newCallbacks(cfg.Callbacks, t)
	if err != nil {
		return nil, err
	}
	r := &fitRun{
		p: p, cfg: &cfg, cb: cb, t: t, out: out,
		bar: &progbar{w: out, now: now, verbose: mode, buf: make([]byte, 0, 512)},
		// The history grows with the epochs that run, not with the
		// number asked for, which may be far more than memory could hold.
		hist: newHistory(m.metric, p.validate, min(p.epochs-min(cfg.InitialEpoch, p.epochs), 1024)),
	}
	r.seed = cfg.Seed
	if r.seed == 0 {
		r.seed = drawSeed()
	}
	// The permutation buffer lives with the model so that repeated fits
	// do not touch fresh memory.
	if cap(m.perm) < p.n {
		m.perm = make([]int, p.n)
	}
	r.perm = m.perm[:p.n]
	for i := range r.perm {
		r.perm[i] = i
	}
	r.vals = make([]metricValue, 0, len(r.hist.Keys))
	err = m.runFit(ctx, r)
	if endErr := cb.trainEnd(r.vals); err == nil {
		err = endErr
	}
	return r.hist, err
}

// fitRun is the state of one Fit between its epochs.
type fitRun struct {
	p         *fitPlan
	cfg       *FitConfig
	cb        *callbacks
	t         *Training
	out       io.Writer
	bar       *progbar
	hist      *History
	seed      uint64
	perm      []int
	vals      []metricValue // the last values shown or logged, reused
	epochLine []byte
}

// runFit runs the epochs of r until the last, a callback's stop or error,
// or ctx's end.
func (m *Sequential) runFit(ctx context.Context, r *fitRun) error {
	p, cfg, mode := r.p, r.cfg, r.bar.verbose
	if err := r.cb.trainBegin(); err != nil {
		return err
	}
	for e := cfg.InitialEpoch; e < p.epochs && !r.t.stop; e++ {
		if err := r.cb.epochBegin(e); err != nil {
			return err
		}
		if mode != VerboseSilent {
			r.bar.reset(p.steps)
			if p.epochs > 1 {
				r.epochLine = fmt.Appendf(r.epochLine[:0], "Epoch %d/%d\n", e+1, p.epochs)
				r.out.Write(r.epochLine) //nolint:errcheck // progress output is best effort
			}
		}
		if !cfg.NoShuffle {
			shuffleEpoch(r.perm, r.seed, e)
		}
		var lossM, accM meanMetric
		done, err := m.fitEpoch(ctx, r, &lossM, &accM)
		if err != nil {
			if mode == VerboseBar {
				r.out.Write([]byte("\n")) //nolint:errcheck // ends the bar's line
			}
			return fmt.Errorf("mlp: Fit: stopped in epoch %d after %d of %d steps: %w", e+1, done, p.steps, err)
		}
		r.vals = appendTrainMetrics(r.vals[:0], m.metric, &lossM, &accM)
		if p.validate {
			sc := m.evaluate(p.vx, p.vy, p.vbs, nil)
			r.vals = append(r.vals, metricValue{"val_loss", sc.Loss})
			if m.metric != "" {
				r.vals = append(r.vals, metricValue{"val_" + m.metric, sc.Accuracy})
			}
		}
		if mode != VerboseSilent {
			r.bar.update(done, r.vals, true)
		}
		// Keras's History is the last callback: it records the epoch
		// after the user's callbacks have run, even one that stops.
		cbErr := r.cb.epochEnd(e, r.vals)
		for _, v := range r.vals {
			r.hist.History[v.name] = append(r.hist.History[v.name], v.v)
		}
		r.hist.Epoch = append(r.hist.Epoch, e)
		if cbErr != nil {
			return cbErr
		}
	}
	return nil
}

// checkFitConfig checks the arguments of cfg that need no model.
func checkFitConfig(cfg FitConfig) error {
	if cfg.Epochs < 0 || cfg.BatchSize < 0 || cfg.ValidationBatchSize < 0 || cfg.InitialEpoch < 0 {
		return fmt.Errorf("mlp: Fit: Epochs, BatchSize, ValidationBatchSize and InitialEpoch must not be negative")
	}
	if !(cfg.ValidationSplit >= 0 && cfg.ValidationSplit < 1) {
		return fmt.Errorf("mlp: Fit: ValidationSplit = %v, must be in [0, 1)", cfg.ValidationSplit)
	}
	return cfg.Verbose.check("Fit")
}

// fitPlan is what Fit makes of its data and configuration before it
// changes anything: the samples it trains and validates on, and the sizes
// and counts of its batches.
type fitPlan struct {
	x        []float32 // training inputs, n × input size
	y        []int32
	n        int
	vx       []float32 // validation inputs, nil without validation
	vy       []int32
	validate bool
	epochs   int
	bs, vbs  int // training and validation batch sizes, at most the samples
	rows     int // the largest batch, which the buffers must hold
	steps    int // per epoch
}

// planFit checks x, y and cfg against the model, splits off the
// validation samples, and checks that the training fits the memory and
// the optimizer's iteration count, in that order.
func (m *Sequential) planFit(x []float32, y []int32, cfg FitConfig) (*fitPlan, error) {
	var vx []float32
	var vy []int32
	split := -1
	switch {
	case cfg.ValidationData != nil:
		vx, vy = cfg.ValidationData.X, cfg.ValidationData.Y
	case cfg.ValidationSplit > 0:
		split = int(float64(len(y)) * (1 - cfg.ValidationSplit))
		if split == 0 || split == len(y) {
			return nil, fmt.Errorf("mlp: Fit: %d samples are not enough to split off ValidationSplit = %v for validation",
				len(y), cfg.ValidationSplit)
		}
	}
	checkVal := func(inSize, classes int) error {
		if cfg.ValidationData == nil {
			return nil
		}
		nv, err := checkData("Fit: ValidationData", vx, vy, inSize, classes, true)
		if err == nil && nv == 0 {
			err = fmt.Errorf("mlp: Fit: ValidationData holds no samples")
		}
		return err
	}
	n, err := m.ready("Fit", x, y, true, checkVal)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("mlp: Fit: no training samples")
	}
	if split >= 0 {
		vx, vy = x[split*m.inSize:], y[split:]
		x, y, n = x[:split*m.inSize], y[:split], split
	}
	p := &fitPlan{x: x, y: y, n: n, vx: vx, vy: vy, validate: vx != nil, epochs: max(cfg.Epochs, 1)}

	// Batches beyond the data are the data: one step per epoch, and no
	// count below can overflow.
	bs := cfg.BatchSize
	if bs == 0 {
		bs = 32
	}
	bs = min(bs, n)
	vbs := cfg.ValidationBatchSize
	if vbs == 0 {
		vbs = bs
	}
	rows := bs
	if p.validate {
		vbs = min(vbs, len(vy))
		rows = max(rows, vbs)
	}
	p.bs, p.vbs, p.rows = bs, vbs, rows
	p.steps = (n + bs - 1) / bs
	if err := m.checkTraining("Fit", rows, m.slots); err != nil {
		return nil, err
	}
	if cfg.InitialEpoch < p.epochs {
		hi, total := bits.Mul64(uint64(p.epochs-cfg.InitialEpoch), uint64(p.steps))
		if hi != 0 {
			total = math.MaxUint64
		}
		if err := m.checkIterations("Fit", total); err != nil {
			return nil, fmt.Errorf("%w: %d epochs of %d steps are too many", err, p.epochs-cfg.InitialEpoch, p.steps)
		}
	}
	return p, nil
}

// newHistory returns an empty History with Keras's keys for the metric
// accName ("" for none), with or without validation, and room for
// capHint epochs.
func newHistory(accName string, validate bool, capHint int) *History {
	hist := &History{History: make(map[string][]float64)}
	hist.Keys = append(hist.Keys, "loss")
	if accName != "" {
		hist.Keys = append(hist.Keys, accName)
	}
	if validate {
		hist.Keys = append(hist.Keys, "val_loss")
		if accName != "" {
			hist.Keys = append(hist.Keys, "val_"+accName)
		}
	}
	for _, k := range hist.Keys {
		hist.History[k] = make([]float64, 0, capHint)
	}
	hist.Epoch = make([]int, 0, capHint)
	return hist
}

// fitEpoch runs one epoch's steps over the samples in r.perm's order,
// adding each step's loss and accuracy to lossM and accM; with the progress
// bar it draws them after every step, and it tells the batch callbacks.
// It returns the number of steps run, which is short of the epoch's when a
// batch callback stopped training or ctx ended (then with ctx's error).
// r.vals is reused so that no step allocates.
func (m *Sequential) fitEpoch(ctx context.Context, r *fitRun, lossM, accM *meanMetric) (int, error) {
	p := r.p
	for s := range p.steps {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		idx := r.perm[s*p.bs : min((s+1)*p.bs, p.n)]
		rows := len(idx)
		xb, yb := m.ws.x[:rows*m.inSize], m.ws.y[:rows]
		// Rows picked at random from the whole data set: at batch 256
		// this copy is a quarter of a step on one core, and
		// GatherRows splits it over the kernels' threads.
		kernels.GatherRows(xb, p.x, m.inSize, idx)
		for k, i := range idx {
			yb[k] = p.y[i]
		}
		// The next batch's rows, from memory into this core's caches
		// while this step computes: a hint, which changes no result.
		// Issuing it waits on the core's misses in flight, so it saves
		// only part of the copy's wait: 3 to 5% of a step at batches of
		// 32 to 512 on one thread on Zen 5. PrefetchRows skips the
		// batches that GatherRows splits over threads.
		// The last step has no next batch: the next epoch's order is
		// drawn after validation and the callbacks.
		if s+1 < p.steps {
			kernels.PrefetchRows(p.x, m.inSize, r.perm[(s+1)*p.bs:min((s+2)*p.bs, p.n)])
		}
		lossSum, correct := m.step(xb, yb, rows)
		lossM.add(float32(lossSum/float64(rows)), float32(rows))
		accM.total += float32(correct)
		accM.count += float32(rows)
		if r.bar.verbose == VerboseBar || len(r.cb.batch) > 0 {
			r.vals = appendTrainMetrics(r.vals[:0], m.metric, lossM, accM)
		}
		if r.bar.verbose == VerboseBar {
			r.bar.update(s+1, r.vals, false)
		}
		if len(r.cb.batch) > 0 {
			if err := r.cb.batchEnd(s, r.vals); err != nil {
				return s + 1, err
			}
			if r.t.stop {
				return s + 1, nil
			}
		}
	}
	return p.steps, nil
}

// appendTrainMetrics appends the running loss and, when the model has a
// metric (accName), its accuracy to vals.
func appendTrainMetrics(vals []metricValue, accName string, lossM, accM *meanMetric) []metricValue {
	vals = append(vals, metricValue{"loss", lossM.result()})
	if accName != "" {
		vals = append(vals, metricValue{accName, accM.result()})
	}
	return vals
}

// shuffleEpoch sets perm to epoch's order of the samples: a Fisher-Yates
// shuffle of 0…n-1 drawn from a generator seeded by seed and the epoch
// alone. An epoch's order so does not depend on the epochs before it, and
// a Fit that starts at InitialEpoch gets the order a run from epoch 0
// would have had, without drawing the skipped epochs' shuffles.
func shuffleEpoch(perm []int, seed uint64, epoch int) {
	for i := range perm {
		perm[i] = i
	}
	// A SplitMix64 step spreads consecutive epochs over the second seed.
	z := uint64(epoch) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	rng := rand.New(rand.NewPCG(seed, z^z>>31))
	for i := len(perm) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
}

// EvalConfig holds EvaluateWith's arguments. Its zero value is Keras's
// defaults: batches of 32 and the progress bar on standard output.
type EvalConfig struct {
	// BatchSize is the number of samples per step; 0 means 32.
	BatchSize int
	// Verbose selects the progress output; the zero value is the bar.
	Verbose Verbosity
	// Out receives the progress output; nil means os.Stdout.
	Out io.Writer
	// Now is the clock of the progress output; nil means time.Now.
	Now func() time.Time
}

// Evaluate returns the mean loss and the accuracy of the model on x and y,
// in batches of 32 without shuffling, as Keras's model.evaluate(x, y), and
// like it (and like Fit) draws the progress bar on standard output. Use
// EvaluateWith to choose the batch size or the output, for example
// EvalConfig{Verbose: VerboseSilent} for none. On error the model is
// unchanged.
func (m *Sequential) Evaluate(x []float32, y []int32) (Scores, error) {
	return m.EvaluateWith(x, y, EvalConfig{})
}

// EvaluateWith is Evaluate with Keras's options: batch size and progress
// output. The zero EvalConfig is Evaluate's (and Keras's) default: the
// progress bar on standard output. A BatchSize above the number of samples
// evaluates them in one batch.
func (m *Sequential) EvaluateWith(x []float32, y []int32, cfg EvalConfig) (Scores, error) {
	if cfg.BatchSize < 0 {
		return Scores{}, fmt.Errorf("mlp: Evaluate: BatchSize = %d must not be negative", cfg.BatchSize)
	}
	if err := cfg.Verbose.check("Evaluate"); err != nil {
		return Scores{}, err
	}
	if m.err != nil {
		return Scores{}, m.err
	}
	if err := m.acquire("Evaluate"); err != nil {
		return Scores{}, err
	}
	defer m.release()
	n, err := m.ready("Evaluate", x, y, true, nil)
	if err != nil {
		return Scores{}, err
	}
	if n == 0 {
		return Scores{}, fmt.Errorf("mlp: Evaluate: no samples")
	}
	bs := cfg.BatchSize
	if bs == 0 {
		bs = 32
	}
	bs = min(bs, n)
	if err := m.checkTraining("Evaluate", bs, m.slots); err != nil {
		return Scores{}, err
	}
	var bar *progbar
	if mode := cfg.Verbose.mode(); mode != VerboseSilent {
		out := cfg.Out
		if out == nil {
			out = os.Stdout
		}
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		bar = &progbar{w: out, now: now, verbose: mode}
	}
	return m.evaluate(x, y, bs, bar), nil
}

// evaluate runs the loss and accuracy over already validated data, in
// batches of bs, drawing bar when it is not nil.
func (m *Sequential) evaluate(x []float32, y []int32, bs int, bar *progbar) Scores {
	n := len(y)
	m.ensure(min(bs, n))
	last := m.dense[len(m.dense)-1]
	steps := (n + bs - 1) / bs
	if bar != nil {
		bar.reset(steps)
	}
	var lossM, accM meanMetric
	var vals [2]metricValue
	names := [2]string{"loss", m.metric}
	nv := 1
	if m.metric != "" {
		nv = 2
	}
	for s := range steps {
		lo, hi := s*bs, min((s+1)*bs, n)
		rows := hi - lo
		logits := m.forward(x[lo*m.inSize:hi*m.inSize], rows, false, false, nil)
		probs := m.ws.probs[:rows*last.units]
		lossSum := kernels.SoftmaxCrossEntropy(probs, nil, logits, y[lo:hi], rows, last.units)
		correct := kernels.CountCorrect(probs, y[lo:hi], rows, last.units)
		lossM.add(float32(lossSum/float64(rows)), float32(rows))
		accM.total += float32(correct)
		accM.count += float32(rows)
		if bar != nil && bar.verbose == VerboseBar {
			vals[0] = metricValue{names[0], lossM.result()}
			vals[1] = metricValue{names[1], accM.result()}
			bar.update(s+1, vals[:nv], false)
		}
	}
	if bar != nil {
		vals[0] = metricValue{names[0], lossM.result()}
		vals[1] = metricValue{names[1], accM.result()}
		bar.update(steps, vals[:nv], true)
	}
	return Scores{Loss: lossM.result(), Accuracy: accM.result()}
}
