package mlp

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// maskOf returns the multipliers of the masks the Dropout layers feeding
// Dense layer l applied in the last training step, read from the
// kernel's mask function (DropoutKeep) and the float64 scale 1/(1-rate).
func maskOf(l *Layer, count int) []float64 {
	if len(l.drops) == 0 {
		return nil
	}
	m := make([]float64, count)
	for i := range m {
		m[i] = 1
	}
	for _, d := range l.drops {
		for i := range m {
			if kernels.DropoutKeep(d.drop, i) {
				m[i] *= 1 / (1 - d.rate)
			} else {
				m[i] = 0
			}
		}
	}
	return m
}

// TestDropoutGradientCheck checks the loss and every weight gradient of a
// training step through Dropout layers (on the input and between hidden
// layers) against a float64 reference with the same masks, on every level.
func TestDropoutGradientCheck(t *testing.T) {
	for _, level := range kernels.Available() {
		restore, err := kernels.Use(level)
		if err != nil {
			t.Fatal(err)
		}
		SetRandomSeed(12)
		m := NewSequential("", Flatten(InputShape(2, 3)), Dropout(0.25), Dense(7, "relu"), Dropout(0.4),
			Dense(5, "tanh"), Dropout(0.3), Dropout(0.2), Dense(3, "softmax"))
		if err := m.Compile(optim.SGD{}, "sparse_categorical_crossentropy"); err != nil {
			t.Fatal(err)
		}
		acts := []string{"relu", "tanh", "softmax"}
		r := rand.New(rand.NewPCG(5, 6))
		const n, in = 9, 6
		x := make([]float32, n*in)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y := []int32{0, 2, 1, 2, 0, 1, 1, 2, 0}
		w := m.Weights()
		for i := 1; i < len(w); i += 2 {
			for j := range w[i] {
				w[i][j] = float32(0.3 * r.NormFloat64())
			}
		}
		if err := m.SetWeights(w); err != nil {
			t.Fatal(err)
		}
		if err := m.prepareTraining(); err != nil {
			t.Fatal(err)
		}
		m.ensure(n)
		lossSum, _ := m.lossAndGrad(x, y, n)
		m.backward(x, n)

		masks := make([][]float64, len(m.dense))
		dropped := 0
		for l, d := range m.dense {
			masks[l] = maskOf(d, n*d.in)
			for _, v := range masks[l] {
				if v == 0 {
					dropped++
				}
			}
		}
		if dropped == 0 {
			t.Fatalf("%s: the masks drop nothing", level)
		}
		checkGradients(t, level, m, lossSum/n, func(w64 [][]float64) float64 {
			return refLossMasked(w64, acts, in, x, y, masks)
		})
		restore()
	}
}

// dropoutModel is the chapter 7-3 model: the tutorial's with Dropout(0.3)
// after the hidden layer.
func dropoutModel(t testing.TB, opt optim.Optimizer) *Sequential {
	t.Helper()
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dropout(0.3), Dense(10, "softmax"))
	if err := m.Compile(opt, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDropoutIdentityInInference: Evaluate, Predict, PredictClasses and a
// Predictor of a model with Dropout give the bits of the same weights
// without it, after training has drawn masks.
func TestDropoutIdentityInInference(t *testing.T) {
	x, y := synth(300, 784, 10, 21)
	SetRandomSeed(4)
	m := dropoutModel(t, optim.Adam{})
	if _, err := m.Fit(x, y, FitConfig{Verbose: VerboseSilent, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	plain := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dense(10, "softmax"))
	if err := plain.SetWeights(m.Weights()); err != nil {
		t.Fatal(err)
	}
	if err := plain.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	silent := EvalConfig{Verbose: VerboseSilent}
	a, err1 := m.EvaluateWith(x, y, silent)
	b, err2 := plain.EvaluateWith(x, y, silent)
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("Evaluate with Dropout %v (%v), without %v (%v)", a, err1, b, err2)
	}
	pa, pb := make([]float32, 300*10), make([]float32, 300*10)
	if err := m.Predict(x, pa); err != nil {
		t.Fatal(err)
	}
	if err := plain.Predict(x, pb); err != nil {
		t.Fatal(err)
	}
	if !sameBits(pa, pb) {
		t.Error("Predict differs with Dropout")
	}
	p, err := m.Predictor()
	if err != nil {
		t.Fatal(err)
	}
	pc := make([]float32, 300*10)
	if err := p.Predict(x, 300, pc); err != nil || !sameBits(pa, pc) {
		t.Errorf("Predictor differs from Predict with Dropout (%v)", err)
	}
	classes := make([]int32, 300)
	if err := m.PredictClasses(x, classes); err != nil {
		t.Fatal(err)
	}
	want := make([]int32, 300)
	kernels.Argmax(want, pa, 300, 10)
	for i := range want {
		if classes[i] != want[i] {
			t.Fatalf("PredictClasses[%d] = %d, argmax of Predict %d", i, classes[i], want[i])
		}
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestDropoutMaskSameOnEveryLevelAndThreads: the masked layer input of a
// training step is the same bits on every kernel level and thread count
// (the input layer's Dropout sees the same x everywhere, so its output
// differs only if the mask does), and a whole Fit through Dropout is the
// same bits with one thread and with two on each level.
func TestDropoutMaskSameOnEveryLevelAndThreads(t *testing.T) {
	x, y := synth(512, 784, 10, 8)
	var first []float32
	for _, level := range kernels.Available() {
		for _, threads := range []int{1, 2} {
			restore, err := kernels.Use(level)
			if err != nil {
				t.Fatal(err)
			}
			prev := kernels.SetThreads(threads)
			SetRandomSeed(3)
			m := NewSequential("", Flatten(InputShape(28, 28)), Dropout(0.5), Dense(100, "relu"), Dropout(0.3), Dense(10, "softmax"))
			if err := m.Compile(optim.Adam{}, "sparse_categorical_crossentropy"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.TrainOnBatch(x[:256*784], y[:256]); err != nil {
				t.Fatal(err)
			}
			got := append([]float32(nil), m.ws.dropped[0][:256*784]...)
			if first == nil {
				first = got
			} else if !sameBits(first, got) {
				t.Errorf("%s, %d threads: the input Dropout's output differs from the first level's", level, threads)
			}
			kernels.SetThreads(prev)
			restore()
		}
	}
	for _, level := range kernels.Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := kernels.Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			var want [][]float32
			for _, threads := range []int{1, 2} {
				prev := kernels.SetThreads(threads)
				SetRandomSeed(5)
				m := dropoutModel(t, optim.Adam{})
				_, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 256, Verbose: VerboseSilent, Seed: 3})
				kernels.SetThreads(prev)
				if err != nil {
					t.Fatal(err)
				}
				got := m.Weights()
				if want == nil {
					want = got
					continue
				}
				for i := range want {
					if !sameBits(want[i], got[i]) {
						t.Fatalf("weights[%d] differ with 2 threads", i)
					}
				}
			}
		})
	}
}

// TestDropoutReproducibleAndResumable: the same seeds give the same
// training through Dropout; a model saved after one epoch and loaded
// trains its second epoch to the bits of an uninterrupted run (the layer's
// seed is in the file and the masks follow the optimizer's step count).
func TestDropoutReproducibleAndResumable(t *testing.T) {
	x, y := synth(400, 784, 10, 9)
	cfg := FitConfig{Epochs: 2, Verbose: VerboseSilent, Seed: 7}
	SetRandomSeed(6)
	a := dropoutModel(t, optim.Adam{})
	if _, err := a.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	SetRandomSeed(6)
	b := dropoutModel(t, optim.Adam{})
	one := cfg
	one.Epochs = 1
	if _, err := b.Fit(x, y, one); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Layers()[2]; d.ClassName() != "Dropout" || d.Rate() != 0.3 || d.seed != b.Layers()[2].seed {
		t.Fatalf("loaded layer %s rate %v seed %x, saved seed %x", d.ClassName(), d.Rate(), d.seed, b.Layers()[2].seed)
	}
	resume := cfg
	resume.InitialEpoch = 1
	if _, err := c.Fit(x, y, resume); err != nil {
		t.Fatal(err)
	}
	wa, wc := a.Weights(), c.Weights()
	for i := range wa {
		if !sameBits(wa[i], wc[i]) {
			t.Fatalf("weights[%d] after a resumed run differ from an uninterrupted one", i)
		}
	}
	// A different layer seed gives a different run.
	SetRandomSeed(7)
	d := dropoutModel(t, optim.Adam{})
	if err := d.SetWeights(initialWeights(t, 6)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fit(x, y, cfg); err != nil {
		t.Fatal(err)
	}
	if sameBits(d.Weights()[0], wa[0]) {
		t.Error("another Dropout seed trained to the same weights")
	}
}

// initialWeights returns the initial weights of dropoutModel after
// SetRandomSeed(seed).
func initialWeights(t *testing.T, seed uint64) [][]float32 {
	SetRandomSeed(seed)
	return dropoutModel(t, optim.Adam{}).Weights()
}

// TestDropoutSummaryAndErrors: Keras's summary rows and the rate's checks.
func TestDropoutSummaryAndErrors(t *testing.T) {
	ResetNames()
	defer ResetNames()
	m := NewSequential("", Flatten(InputShape(28, 28)), Dense(100, "relu"), Dropout(0.3), Dense(10, "softmax"))
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	want := `Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 flatten (Flatten)           (None, 784)               0         
                                                                 
 dense (Dense)               (None, 100)               78500     
                                                                 
 dropout (Dropout)           (None, 100)               0         
                                                                 
 dense_1 (Dense)             (None, 10)                1010      
                                                                 
=================================================================
Total params: 79510 (310.59 KB)
Trainable params: 79510 (310.59 KB)
Non-trainable params: 0 (0.00 Byte)
_________________________________________________________________
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
	if n := Dropout(0.5).Name(); n != "dropout_1" {
		t.Errorf("second Dropout named %q", n)
	}
	// Dropout keeps a multi-dimensional shape: Flatten must still come
	// before Dense.
	img := NewSequential("", Dropout(0.1, InputShape(28, 28)), Flatten(), Dense(3, "softmax"))
	if err := img.Err(); err != nil || fmt.Sprint(img.Layers()[0].OutputShape()) != "[28 28]" {
		t.Errorf("Dropout on images: shape %v, %v", img.Layers()[0].OutputShape(), err)
	}
	if err := NewSequential("", Dropout(0.1, InputShape(28, 28)), Dense(3, "softmax")).Err(); err == nil ||
		!strings.Contains(err.Error(), "Flatten") {
		t.Errorf("Dense after a 2-D Dropout: %v", err)
	}
	for _, rate := range []float64{-0.1, 1, 1.5, math.NaN()} {
		err := NewSequential("", Dense(3, "relu", InputShape(4)), Dropout(rate)).Err()
		if err == nil || !strings.Contains(err.Error(), "rate") || !strings.Contains(err.Error(), fmt.Sprint(rate)) {
			t.Errorf("Dropout(%v): %v", rate, err)
		}
	}
	if err := NewSequential("", Dense(3, "relu", InputShape(4)), Dropout(0)).Err(); err != nil {
		t.Errorf("Dropout(0): %v", err)
	}
}

// TestDropoutTrainingAllocs: a warmed-up training step through Dropout
// allocates nothing.
func TestDropoutTrainingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	x, y := synth(64, 784, 10, 2)
	m := dropoutModel(t, optim.Adam{})
	if _, _, err := m.TrainOnBatch(x, y); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { _, _, _ = m.TrainOnBatch(x, y) }); a != 0 {
		t.Errorf("TrainOnBatch through Dropout allocates %v times per step", a)
	}
}
