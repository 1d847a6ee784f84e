// Package gomlxpeer is simdmlp's Go peer: the tutorial's model trained and
// run with GoMLX on its pure-Go backend, the framework a Go programmer
// would otherwise pick, measured under the names of bench/'s benchmarks
// (BenchmarkEpoch/impl=gomlx-go, BenchmarkPredictOne/impl=gomlx-go, and
// the same with impl=gomlx-go-sequential, see Configs) so that
// bench/cmd/peertable puts its rows beside ours.
//
// It is a module of its own, pinned to GoMLX v0.28.2 and compute v0.1.3,
// so that neither the library nor bench/ downloads GoMLX. Run it from the
// repository root with `make bench-gomlx` or `make bench-peers`, or by
// hand:
//
//	cd bench/peers/gomlx
//	GOEXPERIMENT=simd GOMAXPROCS=1 go test -run '^$' -bench . -count 5
//
// GOEXPERIMENT=simd is required on amd64: without it the backend's matrix
// products are portable Go loops instead of its AVX-512 and AVX2 code,
// which is not the build a GoMLX user on this CPU runs, and the benchmarks
// stop with a message. The tests run either way.
//
// The model is the one bench/'s end-to-end benchmarks measure:
// Flatten(28×28) → Dense(100, relu) → Dense(10, softmax), sparse
// categorical cross-entropy, Adam (learning rate 0.001, β1 0.9, β2 0.999,
// ε 1e-7), batches of 32, trained for one shuffled epoch over 48000
// samples of bench/'s random data. It is written as a GoMLX user writes
// it: a model function of layers.DenseWithBias and activation.Relu that
// returns logits, loss.SparseCategoricalCrossEntropyLogits (softmax and
// cross-entropy in one, as Keras computes them for a softmax output),
// optimizer.Adam, a dataset.InMemoryDataset that shuffles and batches,
// and train.Trainer driven by train.Loop.
package gomlxpeer

import (
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/dataset"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Sizes of the data and of the model, bench/'s.
const (
	TrainSamples = 48000 // 1500 steps of 32
	EvalSamples  = 12000
	Pixels       = 28 * 28
	Classes      = 10
	Hidden       = 100
	BatchSize    = 32
)

// BenchData returns bench/'s random data of Fashion-MNIST's shape, value
// for value: the same generator, seed and order as its benchData (pixels
// uniform in [0, 1), then labels uniform over the classes, for
// TrainSamples+EvalSamples samples), so both sides train on the same
// numbers.
func BenchData() ([]float32, []int32) {
	n := TrainSamples + EvalSamples
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, n*Pixels)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(Classes))
	}
	return x, y
}

// Configs are the backend configurations the benchmarks measure, each a
// column of the peers table: the defaults, and "ops_sequential", which
// runs a graph's operations one after another instead of handing them to
// goroutines. A user who sets GOMLX_BACKEND=go:ops_sequential gets the
// second; on one core here it halves a one-sample prediction's time and
// lengthens an epoch by about a third.
var Configs = []struct{ Impl, Config string }{
	{"gomlx-go", ""},
	{"gomlx-go-sequential", "ops_sequential"},
}

// Backend returns GoMLX's pure-Go backend ("go", package
// github.com/gomlx/compute/gobackend, which GoMLX's docs call the Go or
// SimpleGo backend) with a configuration of Configs ("" for its
// defaults). Its worker pool follows GOMAXPROCS.
func Backend(config string) (compute.Backend, error) {
	return gobackend.New(config)
}

// Logits is the model function: Flatten(28×28) → Dense(100, relu) →
// Dense(10). It returns logits; the softmax is in the loss when training
// and in Probabilities when predicting, as GoMLX's examples do.
func Logits(scope *model.Scope, images *graph.Node) *graph.Node {
	x := graph.Reshape(images, images.Shape().Dimensions[0], Pixels) // Flatten
	x = activation.Relu(layers.DenseWithBias(scope.In("hidden"), x, Hidden))
	return layers.DenseWithBias(scope.In("output"), x, Classes)
}

// Probabilities is the prediction function: the softmax of the logits.
func Probabilities(scope *model.Scope, images *graph.Node) *graph.Node {
	return graph.Softmax(Logits(scope, images))
}

// Trainer holds the training side of the peer: the model's store, a
// train.Trainer with Adam and the accuracy metric, a train.Loop over it,
// and the dataset it iterates.
type Trainer struct {
	Backend compute.Backend
	Store   *model.Store
	Trainer *train.Trainer
	Loop    *train.Loop
	Data    *dataset.InMemoryDataset
}

// NewTrainer builds the trainer over the first n samples of x (images of
// Pixels values) and y (labels), shuffled with seed and cut into batches
// of batch (the last one smaller when batch does not divide n, as Keras
// does).
func NewTrainer(backend compute.Backend, x []float32, y []int32, n, batch int, seed int64) (*Trainer, error) {
	if len(x) < n*Pixels || len(y) < n {
		return nil, fmt.Errorf("gomlxpeer: %d samples asked for, the data hold %d images and %d labels", n, len(x)/Pixels, len(y))
	}
	images := tensors.FromFlatDataAndDimensions(x[:n*Pixels], n, 28, 28)
	labels := tensors.FromFlatDataAndDimensions(y[:n], n, 1) // sparse labels: last axis 1
	ds, err := dataset.InMemoryFromData(backend, "bench", []any{images}, []any{labels})
	if err != nil {
		return nil, err
	}
	ds.Shuffle().BatchSize(batch, false).WithRand(mathrand.New(mathrand.NewSource(seed)))

	store := model.NewStore()
	opt := optimizer.Adam().LearningRate(0.001).Betas(0.9, 0.999).Epsilon(1e-7).Done()
	// Keras's Fit reports the epoch's running loss and accuracy; the
	// Trainer always adds the batch loss and its moving average.
	accuracy := metric.NewSparseCategoricalAccuracy("Accuracy", "acc")
	trainer := train.NewTrainer(backend, store, Logits, loss.SparseCategoricalCrossEntropyLogits, opt,
		[]metric.Interface{accuracy}, nil)
	return &Trainer{Backend: backend, Store: store, Trainer: trainer, Loop: train.NewLoop(trainer), Data: ds}, nil
}

// Epoch trains one epoch over the dataset and returns the last step's
// metrics: the batch loss, its moving average and the epoch's accuracy so
// far.
func (t *Trainer) Epoch() (loss, movingLoss, accuracy float64, err error) {
	metrics, err := t.Loop.RunEpochs(t.Data, 1)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		for _, m := range metrics {
			m.MustFinalizeAll()
		}
	}()
	if len(metrics) != 3 {
		return 0, 0, 0, fmt.Errorf("gomlxpeer: %d metrics after an epoch, want loss, moving loss and accuracy", len(metrics))
	}
	vals := make([]float64, 3)
	for i, m := range metrics {
		vals[i], err = scalar(m)
		if err != nil {
			return 0, 0, 0, err
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// WarmUp runs two training steps, which compiles the dataset's gather
// graph and the training step's graph for batches of the dataset's size;
// an epoch after it runs compiled graphs only. The steps change the
// weights and Adam's state, as a warm-up epoch of ours does.
func (t *Trainer) WarmUp() error {
	metrics, err := t.Loop.RunSteps(t.Data, 2)
	for _, m := range metrics {
		m.MustFinalizeAll()
	}
	return err
}

// Predictor runs the trained model on one image at a time.
type Predictor struct {
	exec *model.Exec
}

// NewPredictor compiles nothing yet: the graph is built and compiled at
// the first Predict, for the shape of its input.
func NewPredictor(backend compute.Backend, store *model.Store) (*Predictor, error) {
	exec, err := model.NewExec(backend, store, Probabilities)
	if err != nil {
		return nil, err
	}
	return &Predictor{exec: exec}, nil
}

// Predict writes the class probabilities of the images in in (a tensor of
// shape [n, 28, 28]) into dst (n×Classes values).
func (p *Predictor) Predict(in *tensors.Tensor, dst []float32) error {
	out, err := p.exec.Call(in)
	if err != nil {
		return err
	}
	defer out[0].MustFinalizeAll()
	return tensors.ConstFlatData(out[0], func(flat []float32) {
		if len(flat) != len(dst) {
			err = fmt.Errorf("gomlxpeer: %d outputs, room for %d", len(flat), len(dst))
			return
		}
		copy(dst, flat)
	})
}

// scalar reads a metric: a scalar tensor of any float dtype.
func scalar(t *tensors.Tensor) (float64, error) {
	var v float64
	err := t.ConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []float32:
			v = float64(f[0])
		case []float64:
			v = f[0]
		}
	})
	return v, err
}
