package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/bench/internal/tutorial"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// The phases of one training step, in the order the trainer runs them,
// and the metric each is reported as (ns per step, averaged over every
// step the benchmark ran).
const (
	phShuffle  = iota // the epoch's permutation, spread over its steps
	phGather          // GatherRows of the batch's images, and its labels
	phPrefetch        // PrefetchRows of the next batch's images
	phForward1        // DenseForward of the hidden layer, bias and ReLU fused
	phForward2        // DenseForward of the output layer (logits)
	phLoss            // SoftmaxCrossEntropy, CountCorrect, the running metrics
	phGradW2          // dW2 = A1ᵀ·dZ2 (Sgemm) and db2 = column sums (ColSum)
	phGradA1          // dA1 = dZ2·W2ᵀ (Sgemm), then ReLU's gradient (ActivationGrad)
	phGradW1          // dW1 = Xᵀ·dZ1 (Sgemm) and db1 (ColSum)
	phAdamW1          // Adam on W1, 78400 weights (optim.Adam's Updater)
	phAdamRest        // Adam on b1, W2, b2, 1110 weights (a second Updater)
	numPhases
)

var phaseUnits = [numPhases]string{
	phShuffle:  "shuffle-ns/step",
	phGather:   "gather-ns/step",
	phPrefetch: "prefetch-ns/step",
	phForward1: "fwd1-ns/step",
	phForward2: "fwd2-ns/step",
	phLoss:     "loss-ns/step",
	phGradW2:   "dW2-ns/step",
	phGradA1:   "dA1-ns/step",
	phGradW1:   "dW1-ns/step",
	phAdamW1:   "adamW1-ns/step",
	phAdamRest: "adamRest-ns/step",
}

// stepReplica is the tutorial model's training (Dense(784→100, relu) →
// Dense(100→10, softmax), sparse categorical cross-entropy, Adam with
// Keras's defaults) written out with kernels' public API, so that each
// phase of a step can be timed. It mirrors mlp/step.go (step: lossAndGrad
// with forward, backward, then the optimizer) and mlp/fit.go (fitEpoch:
// GatherRows of the shuffled batch and its labels; runFit: a shuffle per
// epoch) call for call, with the same arguments in the same order.
// TestStepReplicaMatchesTrainOnBatch checks it against mlp bit for bit;
// when mlp's step changes, change this with it.
//
// The one difference: mlp applies Adam to W1, b1, W2, b2 with one
// Updater.Step; here W1 has an Updater of its own and b1, W2, b2 another,
// each stepped once per step, so that the two parts are timed apart. Adam
// is elementwise and both Updaters count the same iterations, so the
// kernel calls (AdamStep on W1, b1, W2, b2, in that order) and their
// results are the same; the split adds one Updater.Step's bookkeeping
// (a length check and the bias-correction factor), well under 1 µs.
type stepReplica struct {
	in, hidden, classes int

	x []float32 // the data set, n × in
	y []int32
	n int

	w1, b1, w2, b2     []float32
	gw1, gb1, gw2, gb2 []float32
	adamW1, adamRest   optim.Updater

	xb     []float32 // the gathered batch, rows × in
	yb     []int32
	z1, d1 []float32 // hidden layer: output after ReLU, then gradient
	z2, d2 []float32 // output layer: logits, then gradient of the mean loss
	probs  []float32

	perm []int
	rng  *rand.Rand

	// lossSum, lossCount, correct are the running metrics Fit keeps.
	lossSum, lossCount, correct float32

	t [numPhases]time.Duration // time spent in each phase
}

// newStepReplica returns a replica with the weights w (Keras's order: W1,
// b1, W2, b2, as mlp's Weights returns them, copied) and fresh Adam
// state, for batches of up to maxRows of the data x, y.
func newStepReplica(w [][]float32, x []float32, y []int32, maxRows int) (*stepReplica, error) {
	if len(w) != 4 {
		return nil, fmt.Errorf("replica: %d weight tensors, want 4 (W1, b1, W2, b2)", len(w))
	}
	r := &stepReplica{hidden: len(w[1]), classes: len(w[3])}
	r.in = len(w[0]) / r.hidden
	if r.in*r.hidden != len(w[0]) || len(w[2]) != r.hidden*r.classes {
		return nil, fmt.Errorf("replica: weight sizes %d, %d, %d, %d are not a 2-layer MLP's", len(w[0]), len(w[1]), len(w[2]), len(w[3]))
	}
	r.x, r.y, r.n = x, y, len(y)
	if len(x) != r.n*r.in {
		return nil, fmt.Errorf("replica: %d inputs for %d labels of %d features", len(x), len(y), r.in)
	}
	clone := func(s []float32) []float32 { return append([]float32(nil), s...) }
	r.w1, r.b1, r.w2, r.b2 = clone(w[0]), clone(w[1]), clone(w[2]), clone(w[3])
	r.gw1, r.gb1 = make([]float32, len(w[0])), make([]float32, len(w[1]))
	r.gw2, r.gb2 = make([]float32, len(w[2])), make([]float32, len(w[3]))
	var err error
	if r.adamW1, err = (optim.Adam{}).Build([]int{len(r.w1)}); err != nil {
		return nil, err
	}
	if r.adamRest, err = (optim.Adam{}).Build([]int{len(r.b1), len(r.w2), len(r.b2)}); err != nil {
		return nil, err
	}
	r.xb, r.yb = make([]float32, maxRows*r.in), make([]int32, maxRows)
	r.z1, r.d1 = make([]float32, maxRows*r.hidden), make([]float32, maxRows*r.hidden)
	r.z2, r.d2 = make([]float32, maxRows*r.classes), make([]float32, maxRows*r.classes)
	r.probs = make([]float32, maxRows*r.classes)
	r.perm = make([]int, r.n)
	for i := range r.perm {
		r.perm[i] = i
	}
	r.rng = rand.New(rand.NewPCG(1, 2))
	return r, nil
}

// weights returns the replica's weights in Keras's order.
func (r *stepReplica) weights() [][]float32 { return [][]float32{r.w1, r.b1, r.w2, r.b2} }

// layers returns the (in, units) of the two Dense layers.
func (r *stepReplica) layers() [][2]int { return [][2]int{{r.in, r.hidden}, {r.hidden, r.classes}} }

// epoch runs one epoch in batches of bs over a fresh shuffle of the
// samples and returns the number of steps: the last batch holds the
// remainder, as in Fit.
func (r *stepReplica) epoch(bs int) int {
	t0 := time.Now()
	// Fisher-Yates, as mlp's shuffleEpoch (its generator's seeding
	// differs; any permutation costs the same).
	for i := r.n - 1; i > 0; i-- {
		j := r.rng.IntN(i + 1)
		r.perm[i], r.perm[j] = r.perm[j], r.perm[i]
	}
	r.t[phShuffle] += time.Since(t0)
	steps := (r.n + bs - 1) / bs
	for s := range steps {
		var next []int // none after the last step, as in fitEpoch
		if s+1 < steps {
			next = r.perm[(s+1)*bs : min((s+2)*bs, r.n)]
		}
		r.step(r.perm[s*bs:min((s+1)*bs, r.n)], next)
	}
	return steps
}

// step is one training step on the samples idx, each phase timed, with
// the rows of the samples next (the next step's) prefetched after the
// gather, as fitEpoch does. It returns the batch's summed loss and its
// correct predictions, measured before the update, as mlp's step does.
func (r *stepReplica) step(idx, next []int) (lossSum float64, correct int) {
	rows := len(idx)
	in, hid, cls := r.in, r.hidden, r.classes
	xb, yb := r.xb[:rows*in], r.yb[:rows]
	z1, d1 := r.z1[:rows*hid], r.d1[:rows*hid]
	z2, d2, probs := r.z2[:rows*cls], r.d2[:rows*cls], r.probs[:rows*cls]

	// fitEpoch: the batch, rows picked at random from the whole set.
	t0 := time.Now()
	kernels.GatherRows(xb, r.x, in, idx)
	for k, i := range idx {
		yb[k] = r.y[i]
	}
	t1 := time.Now()
	if next != nil {
		kernels.PrefetchRows(r.x, in, next)
	}
	tp := time.Now()
	// lossAndGrad → forward (train, applyLast = false): the hidden layer
	// with its ReLU, the output layer linear (its softmax is fused into
	// the loss).
	kernels.DenseForward(kernels.ActReLU, rows, hid, in, xb, in, r.w1, hid, r.b1, z1, hid)
	t2 := time.Now()
	kernels.DenseForward(kernels.ActLinear, rows, cls, hid, z1, hid, r.w2, cls, r.b2, z2, cls)
	t3 := time.Now()
	lossSum = kernels.SoftmaxCrossEntropy(probs, d2, z2, yb, rows, cls)
	correct = kernels.CountCorrect(probs, yb, rows, cls)
	// fitEpoch's running loss and accuracy.
	r.lossSum += float32(lossSum/float64(rows)) * float32(rows)
	r.lossCount += float32(rows)
	r.correct += float32(correct)
	t4 := time.Now()
	// backward, output layer (i = 1): dW2, db2, then dA1 through ReLU.
	kernels.Sgemm(true, false, hid, cls, rows, 1, z1, hid, d2, cls, 0, r.gw2, cls)
	kernels.ColSum(r.gb2, d2, rows, cls)
	t5 := time.Now()
	kernels.Sgemm(false, true, rows, hid, cls, 1, d2, cls, r.w2, cls, 0, d1, hid)
	kernels.ActivationGrad(kernels.ActReLU, d1, d1, z1, rows, hid)
	t6 := time.Now()
	// backward, hidden layer (i = 0): dW1, db1; no input gradient.
	kernels.Sgemm(true, false, in, hid, rows, 1, xb, in, d1, hid, 0, r.gw1, hid)
	kernels.ColSum(r.gb1, d1, rows, hid)
	t7 := time.Now()
	// step: updater.Step(params, grads), in two parts (see stepReplica).
	r.adamW1.Step([][]float32{r.w1}, [][]float32{r.gw1})
	t8 := time.Now()
	r.adamRest.Step([][]float32{r.b1, r.w2, r.b2}, [][]float32{r.gb1, r.gw2, r.gb2})
	t9 := time.Now()

	r.t[phGather] += t1.Sub(t0)
	r.t[phPrefetch] += tp.Sub(t1)
	r.t[phForward1] += t2.Sub(tp)
	r.t[phForward2] += t3.Sub(t2)
	r.t[phLoss] += t4.Sub(t3)
	r.t[phGradW2] += t5.Sub(t4)
	r.t[phGradA1] += t6.Sub(t5)
	r.t[phGradW1] += t7.Sub(t6)
	r.t[phAdamW1] += t8.Sub(t7)
	r.t[phAdamRest] += t9.Sub(t8)
	return lossSum, correct
}

// BenchmarkStepPhases is a training epoch of the tutorial's model split
// into the phases of its steps, as
// BenchmarkStepPhases/impl=<level>/batch=<b>/threads=<n>: one op is one
// epoch over 48000 samples of Fashion-MNIST's shape (150 MB, beyond the
// caches) in shuffled batches (1500 steps of 32, 188 of 256 of which the
// last holds 128), run by stepReplica, which makes mlp's kernel calls.
// Each phase is timed with time.Now around it and reported in ns per step
// (gather-ns/step, fwd1-, fwd2-, loss-, dW2-, dA1-, dW1-, adamW1-,
// adamRest-, shuffle-ns/step); ns/step is the whole step, peak-fraction
// the epoch's GEMM flops per second over the FMA peak of threads cores
// (none on the generic level).
//
// Training goes on from one op to the next and is never reset: the
// weights and Adam's moments evolve as in a Fit of as many epochs, from
// real gradients of real batches, so that whatever their values cost
// (subnormal moments, say) shows here as it does in training. The first
// epoch of a run starts from the tutorial's initial weights and zero
// moments.
func BenchmarkStepPhases(b *testing.B) {
	x, y := benchData()
	sets := []struct {
		name string
		x    []float32
		y    []int32
	}{{"random", x[:trainSamples*pixels], y[:trainSamples]}}
	if d, err := fashionData(); err == nil {
		sets = append(sets, struct {
			name string
			x    []float32
			y    []int32
		}{"fashion", d.x, d.y})
	} else {
		b.Logf("no data=fashion rows: %v", err)
	}
	forEachLevel(b, func(b *testing.B) {
		for _, bs := range []int{32, 256} {
			for _, threads := range []int{1, 2} {
				for _, set := range sets {
					b.Run(fmt.Sprintf("batch=%d/threads=%d/data=%s", bs, threads, set.name), func(b *testing.B) {
						benchPhases(b, set.x, set.y, bs, threads)
					})
				}
			}
		}
	})
}

// benchPhases is one BenchmarkStepPhases cell: epochs of stepReplica on
// x and y at batch bs on threads threads.
func benchPhases(b *testing.B, x []float32, y []int32, bs, threads int) {
	if runtime.GOMAXPROCS(0) < threads {
		b.Skipf("GOMAXPROCS=%d < %d threads", runtime.GOMAXPROCS(0), threads)
	}
	defer kernels.SetThreads(kernels.SetThreads(threads))
	m := tutorialModel(b)
	r, err := newStepReplica(m.Weights(), x, y, bs)
	if err != nil {
		b.Fatal(err)
	}
	// One untimed step touches every buffer and slot
	// once (fresh pages are slow here); it is a real
	// training step, so the state stays a trainer's.
	r.step(r.perm[:bs], nil)
	r.t = [numPhases]time.Duration{}
	steps := 0
	for b.Loop() {
		steps += r.epoch(bs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	for p, unit := range phaseUnits {
		b.ReportMetric(float64(r.t[p].Nanoseconds())/float64(steps), unit)
	}
	reportPeakFraction(b, trainFLOPs(r.layers(), len(y)))
}

// TestStepReplicaMatchesTrainOnBatch: stepReplica computes what mlp's
// trainer computes, bit for bit. On every level, the tutorial's model and
// a replica with its weights take the same steps (batches of 32, 128 and
// 256, as an epoch's last batch may be smaller) — the replica on its
// gathered batch, the model by TrainOnBatch on that same batch — and
// must agree on each step's loss and accuracy and on every weight after
// it. TrainOnBatch is mlp's step, which Fit calls after the same gather.
func TestStepReplicaMatchesTrainOnBatch(t *testing.T) {
	x, y := benchData()
	x, y = x[:trainSamples*pixels], y[:trainSamples]
	for _, level := range kernels.Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := kernels.Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			m, err := tutorial.Model()
			if err != nil {
				t.Fatal(err)
			}
			r, err := newStepReplica(m.Weights(), x, y, 256)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for s, rows := range []int{32, 256, 128, 32, 32} {
				idx := rng.Perm(trainSamples)[:rows]
				lossSum, correct := r.step(idx, nil)
				loss, acc, err := m.TrainOnBatch(r.xb[:rows*pixels], r.yb[:rows])
				if err != nil {
					t.Fatal(err)
				}
				// TrainOnBatch's rounding of the sums.
				wantLoss, wantAcc := float64(float32(lossSum/float64(rows))), float64(float32(correct)/float32(rows))
				if loss != wantLoss || acc != wantAcc {
					t.Fatalf("step %d (%d rows): TrainOnBatch loss %v, accuracy %v; replica %v, %v", s, rows, loss, acc, wantLoss, wantAcc)
				}
				for i, w := range m.Weights() {
					rw := r.weights()[i]
					for j := range w {
						if math.Float32bits(w[j]) != math.Float32bits(rw[j]) {
							t.Fatalf("step %d (%d rows): weight tensor %d [%d]: mlp %v, replica %v", s, rows, i, j, w[j], rw[j])
						}
					}
				}
			}
			if got, want := r.adamW1.Iterations(), m.Iterations(); got != want || r.adamRest.Iterations() != want {
				t.Fatalf("replica's Adam took %d and %d steps, the model's %d", got, r.adamRest.Iterations(), want)
			}
		})
	}
}
