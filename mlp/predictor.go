package mlp

import (
	"fmt"

	"github.com/simdmlp/simdmlp/internal/freelist"
	"github.com/simdmlp/simdmlp/kernels"
)

// predictBatch is the number of rows per forward pass, the same as
// Sequential.Predict's, so that both run the kernels on the same shapes
// and give the same bits.
const predictBatch = 32

// int8Batch is the number of rows per forward pass of an int8 predictor,
// whose rows are computed independently (the bits do not depend on it):
// within a pass kernels.DenseInt8 prefetches each block of 32 rows while
// it multiplies the one before, so longer passes keep the input streaming
// from memory; the hidden outputs of 256 rows of 100 units stay in L2.
const int8Batch = 256

// Predictor is an immutable snapshot of a model's weights with a forward
// pass that any number of goroutines may call at once: an embeddable
// inference core. Made by Sequential.Predictor, it shares nothing with the
// model, so training the model further does not change it.
//
// Each call borrows a scratch buffer from a free list that grows to the
// largest number of calls that ran at the same time, each buffer to the
// largest call it served, so once warmed up to the peak concurrency and
// the largest n PredictOne and Predict allocate nothing.
type Predictor struct {
	name    string
	inSize  int
	outSize int
	layers  []predLayer
	hidden  int // units of the widest hidden layer; 0 when there is one layer
	block   int // rows per forward pass: predictBatch or int8Batch
	// int8 marks a quantized predictor (see QuantizedPredictor).
	int8 bool
	// inShape and specs describe the model as its file does, for Save.
	inShape []int
	specs   []layerSpec

	free freelist.List[predScratch]
}

type predLayer struct {
	name      string
	in, units int
	act       kernels.Activation
	w, b      []float32
	// q is the int8 kernel of a quantized predictor, whose w is nil.
	q *kernels.Int8Weights
}

// predScratch holds two ping-pong buffers for the hidden layers' outputs
// and, for an int8 predictor, the quantized rows' workspace.
type predScratch struct {
	a, b []float32
	i8   kernels.Int8Scratch
}

// Predictor returns an immutable copy of the model's forward pass for
// concurrent inference. The model must be built and have a Dense layer.
func (m *Sequential) Predictor() (*Predictor, error) { return m.predictor("Predictor", false) }

// QuantizedPredictor returns an immutable int8 copy of the model's forward
// pass (post-training dynamic quantization): each Dense kernel quantized
// to int8 once, symmetrically with one scale per output unit, and each
// layer's input quantized to uint8 per sample at run time, with a scale
// and zero point of its own; the products are summed exactly in int32
// and the bias, scales and activation (the last layer's softmax
// included) applied in float32 (kernels.DenseInt8 has the exact rules).
// The first layer's weights take a quarter of the float32 bytes, and the
// CPU's int8 dot-product instructions do four multiplies where float32
// does one. Outputs differ from the float32 Predictor's by the
// quantization error; Precision reports "int8". Every kernel level gives
// the same bits. The model must be built, have a Dense layer, finite
// weights and layers of at most kernels.MaxInt8Inputs inputs.
func (m *Sequential) QuantizedPredictor() (*Predictor, error) {
	return m.predictor("QuantizedPredictor", true)
}

// predictor is Predictor (int8 false) and QuantizedPredictor; fn names
// the caller in errors.
func (m *Sequential) predictor(fn string, int8 bool) (*Predictor, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.built {
		return nil, fmt.Errorf("mlp: %s: %w", fn, ErrNotBuilt)
	}
	if len(m.dense) == 0 {
		return nil, fmt.Errorf("mlp: %s: model %q has no Dense layer", fn, m.name)
	}
	if err := m.acquire(fn); err != nil {
		return nil, err
	}
	defer m.release()
	p := &Predictor{name: m.name, inSize: m.inSize, outSize: m.OutputSize(), int8: int8,
		inShape: append([]int(nil), m.inShape...), specs: m.layerSpecs(), block: predictBatch}
	if int8 {
		p.block = int8Batch
	}
	for i, l := range m.dense {
		pl := predLayer{name: l.name, in: l.in, units: l.units, act: l.act, b: append([]float32(nil), l.b...)}
		if int8 {
			if l.in > kernels.MaxInt8Inputs {
				return nil, fmt.Errorf("mlp: %s: layer %q has %d inputs; int8 layers take at most %d", fn, l.name, l.in, kernels.MaxInt8Inputs)
			}
			if !kernels.AllFinite(l.w) || !kernels.AllFinite(l.b) {
				return nil, fmt.Errorf("mlp: %s: layer %q has weights that are NaN or ±Inf (did training diverge?)", fn, l.name)
			}
			pl.q = kernels.QuantizeWeights(l.w, l.in, l.units)
		} else {
			pl.w = append([]float32(nil), l.w...)
		}
		p.layers = append(p.layers, pl)
		if i < len(m.dense)-1 {
			p.hidden = max(p.hidden, l.units)
		}
	}
	return p, nil
}

// Precision returns the arithmetic of the predictor's layers: "float32"
// for Predictor's, "int8" for QuantizedPredictor's.
func (p *Predictor) Precision() string {
	if p.int8 {
		return "int8"
	}
	return "float32"
}

// OutputActivation returns the activation of the last Dense layer as
// Keras names it ("softmax", "linear", …): whether the outputs are
// probabilities.
func (p *Predictor) OutputActivation() string { return p.layers[len(p.layers)-1].act.String() }

// InputSize returns the number of values of one input sample.
func (p *Predictor) InputSize() int { return p.inSize }

// OutputSize returns the number of outputs per sample.
func (p *Predictor) OutputSize() int { return p.outSize }

// PredictOne writes the outputs for the single sample x (InputSize values)
// into out (OutputSize values). It is Predict with n = 1.
func (p *Predictor) PredictOne(x, out []float32) error {
	return p.Predict(x, 1, out)
}

// Predict writes the outputs for the n samples of x (n × InputSize values,
// row-major) into out (n × OutputSize values): for a float32 predictor bit
// for bit what the model's Predict gave when the snapshot was taken, on
// the same kernel level; for an int8 one the quantized forward pass (see
// QuantizedPredictor), the same bits on every level. x must be finite:
// a NaN or ±Inf is an error naming the sample and feature, and out may
// then hold the outputs of the samples before it (x is checked in blocks
// as it is read). It is safe for concurrent use.
func (p *Predictor) Predict(x []float32, n int, out []float32) error {
	if n < 0 {
		return fmt.Errorf("mlp: Predictor.Predict: n = %d is negative", n)
	}
	if n > len(x)/p.inSize || len(x) != n*p.inSize {
		return fmt.Errorf("mlp: Predictor.Predict: len(x) = %d, need %d (%d samples × %d inputs)", len(x), n*p.inSize, n, p.inSize)
	}
	if len(out) != n*p.outSize {
		return fmt.Errorf("mlp: Predictor.Predict: len(out) = %d, need %d (%d samples × %d outputs)", len(out), n*p.outSize, n, p.outSize)
	}
	if n == 0 {
		return nil
	}
	s := p.get(min(n, p.block))
	for lo := 0; lo < n; lo += p.block {
		rows := min(p.block, n-lo)
		in := x[lo*p.inSize : (lo+rows)*p.inSize]
		if p.int8 {
			// The rest of x too: DenseInt8 prefetches the rows past its
			// own from it, so the next pass starts on rows in cache.
			in = x[lo*p.inSize:]
		}
		// Each block is checked just before it runs rather than all of x
		// first: a large x then streams from memory once, into the
		// caches the first layer reads it from. An int8 first layer
		// checks it itself, in the pass that quantizes it.
		if !p.int8 && !kernels.AllFinite(in) {
			return p.badInput(s, x)
		}
		a, b := s.a, s.b
		for i := range p.layers {
			l := &p.layers[i]
			var z []float32
			if i == len(p.layers)-1 {
				z = out[lo*p.outSize : (lo+rows)*p.outSize]
			} else {
				z = a[:rows*l.units]
				a, b = b, a
			}
			if l.q != nil {
				// A later layer's outputs come from finite inputs and
				// weights; should they overflow, they flow on as the
				// float32 path's would.
				if !s.i8.DenseInt8(l.act, rows, in, l.in, l.q, l.b, z, l.units) && i == 0 {
					return p.badInput(s, x)
				}
			} else {
				kernels.DenseForward(l.act, rows, l.units, l.in, in, l.in, l.w, l.units, l.b, z, l.units)
			}
			in = z
		}
	}
	p.free.Put(s)
	return nil
}

// badInput returns s and the error for an x that is not finite.
func (p *Predictor) badInput(s *predScratch, x []float32) error {
	p.free.Put(s)
	_, err := checkData("Predictor.Predict", x, nil, p.inSize, 0, false)
	return err
}

// get takes a scratch buffer from the free list, or makes one when every
// buffer is in use, with room for passes of rows rows. Buffers grow to the
// largest pass they serve, so a service predicting one sample at a time
// keeps one sample's worth, not an int8 pass of 256.
func (p *Predictor) get(rows int) *predScratch {
	s := p.free.Get()
	if need := rows * p.hidden; len(s.a) < need {
		s.a, s.b = make([]float32, need), make([]float32, need)
	}
	return s
}

// String describes the predictor: the model's name and sizes.
func (p *Predictor) String() string {
	return fmt.Sprintf("Predictor %q (%s): %d inputs → %d outputs, %d Dense layers", p.name, p.Precision(), p.inSize, p.outSize, len(p.layers))
}
