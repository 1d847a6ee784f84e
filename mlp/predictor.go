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

// Predictor is an immutable snapshot of a model's weights with a forward
// pass that any number of goroutines may call at once: an embeddable
// inference core. Made by Sequential.Predictor, it shares nothing with the
// model, so training the model further does not change it.
//
// Each call borrows a scratch buffer from a free list that grows to the
// largest number of calls that ran at the same time, so once warmed up to
// the peak concurrency PredictOne and Predict allocate nothing.
type Predictor struct {
	name    string
	inSize  int
	outSize int
	layers  []predLayer
	scratch int // floats per scratch buffer; 0 when there is one layer

	free freelist.List[predScratch]
}

type predLayer struct {
	in, units int
	act       kernels.Activation
	w, b      []float32
}

// predScratch holds two ping-pong buffers for the hidden layers' outputs.
type predScratch struct{ a, b []float32 }

// Predictor returns an immutable copy of the model's forward pass for
// concurrent inference. The model must be built and have a Dense layer.
func (m *Sequential) Predictor() (*Predictor, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.built {
		return nil, fmt.Errorf("mlp: Predictor: %w", ErrNotBuilt)
	}
	if len(m.dense) == 0 {
		return nil, fmt.Errorf("mlp: Predictor: model %q has no Dense layer", m.name)
	}
	if err := m.acquire("Predictor"); err != nil {
		return nil, err
	}
	defer m.release()
	p := &Predictor{name: m.name, inSize: m.inSize, outSize: m.OutputSize()}
	for i, l := range m.dense {
		p.layers = append(p.layers, predLayer{
			in: l.in, units: l.units, act: l.act,
			w: append([]float32(nil), l.w...), b: append([]float32(nil), l.b...),
		})
		if i < len(m.dense)-1 {
			p.scratch = max(p.scratch, predictBatch*l.units)
		}
	}
	return p, nil
}

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
// row-major) into out (n × OutputSize values), bit for bit what the model's
// Predict gave when the snapshot was taken, on the same kernel level. x
// must be finite. It is safe for concurrent use.
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
	if !kernels.AllFinite(x) {
		_, err := checkData("Predictor.Predict", x, nil, p.inSize, 0, false)
		return err
	}
	if n == 0 {
		return nil
	}
	s := p.get()
	for lo := 0; lo < n; lo += predictBatch {
		rows := min(predictBatch, n-lo)
		in := x[lo*p.inSize : (lo+rows)*p.inSize]
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
			kernels.DenseForward(l.act, rows, l.units, l.in, in, l.in, l.w, l.units, l.b, z, l.units)
			in = z
		}
	}
	p.free.Put(s)
	return nil
}

// get takes a scratch buffer from the free list, or makes one when every
// buffer is in use.
func (p *Predictor) get() *predScratch {
	s := p.free.Get()
	if s.a == nil {
		s.a, s.b = make([]float32, p.scratch), make([]float32, p.scratch)
	}
	return s
}

// String describes the predictor: the model's name and sizes.
func (p *Predictor) String() string {
	return fmt.Sprintf("Predictor %q: %d inputs → %d outputs, %d Dense layers", p.name, p.inSize, p.outSize, len(p.layers))
}
