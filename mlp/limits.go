package mlp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/simdmlp/simdmlp/optim"
)

// physicalMemory is the machine's memory in bytes, 0 when unknown. Every
// size a model is asked to take on (its weights when it is built, its
// optimizer when compiled, its batch buffers when fitted) is compared with
// it before anything is allocated, so that an absurd size is an error and
// not a machine thrashing or a process killed. Tests lower it.
var physicalMemory = systemMemory()

// maxBytes bounds every size when the machine's memory is unknown, so that
// no count can overflow.
const maxBytes = 1 << 62

// ErrConcurrentUse is matched (errors.Is) by the error of a Sequential's
// method called while another method of the same model is running in
// another goroutine. A Sequential holds its training buffers and optimizer
// state in place, so it trains, evaluates and predicts one call at a
// time; for concurrent inference use a Predictor, and train separate
// models in separate goroutines.
var ErrConcurrentUse = errors.New("mlp: the model is busy in another goroutine (a Sequential is not safe for concurrent use; " +
	"use one model per goroutine, or a Predictor for concurrent inference)")

// acquire marks the model busy for the duration of one method call, which
// must then call release, and fails when it is busy already. Calls from
// different goroutines that do not overlap in time are fine: the flag
// orders them.
func (m *Sequential) acquire(what string) error {
	if !m.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("mlp: %s: %w", what, ErrConcurrentUse)
	}
	return nil
}

func (m *Sequential) release() { m.busy.Store(false) }

// size is a byte count that saturates at maxBytes instead of overflowing.
type size uint64

func (s size) add(t size) size {
	if r, c := bits.Add64(uint64(s), uint64(t), 0); c == 0 && r <= maxBytes {
		return size(r)
	}
	return maxBytes
}

func (s size) mul(k uint64) size {
	hi, lo := bits.Mul64(uint64(s), k)
	if hi != 0 || lo > maxBytes {
		return maxBytes
	}
	return size(lo)
}

// gb formats a byte count for an error message.
func gb(b size) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", uint64(b))
}

// checkMemory fails when need bytes cannot be had: more than the machine
// has, or more than any count can hold. what describes the need.
func checkMemory(need size, what string) error {
	if need >= maxBytes {
		return fmt.Errorf("%s needs more memory than can be counted", what)
	}
	if physicalMemory > 0 && uint64(need) > physicalMemory {
		return fmt.Errorf("%s needs %s of memory, more than the %s this machine has", what, gb(need), gb(size(physicalMemory)))
	}
	return nil
}

// plan walks the layers' shapes from one sample of shape in, checking what
// building them checks, and returns the number of weights they would
// hold; it allocates nothing.
func plan(in []int, layers []*Layer) (params size, err error) {
	dims := in
	for _, l := range layers {
		n, ok := product(dims)
		if !ok {
			return 0, fmt.Errorf("mlp: layer %q: input shape %s is too large", l.name, pyTuple(dims))
		}
		if l.kind == kindDropout {
			continue
		}
		if l.kind != kindDense {
			dims = []int{n}
			continue
		}
		if len(dims) != 1 {
			return 0, fmt.Errorf("mlp: layer %q: Dense needs a flat input, got shape %s; put a Flatten layer before it",
				l.name, pyShape(dims))
		}
		if _, ok := product([]int{n + 1, l.units}); !ok {
			return 0, fmt.Errorf("mlp: layer %q: Dense %d→%d is too large (at most 2³¹−1 weights per layer)", l.name, n, l.units)
		}
		params = params.add(size((n + 1) * l.units))
		dims = []int{l.units}
	}
	return params, nil
}

// checkWeights fails when a model of params weights does not fit in memory.
func checkWeights(name string, params size) error {
	if err := checkMemory(params.mul(4), fmt.Sprintf("model %q with %d weights", name, uint64(params))); err != nil {
		return fmt.Errorf("mlp: %w", err)
	}
	return nil
}

// slotsPerWeight returns how many float32 values per weight opt's updater
// keeps (Adam 2, or 3 with AMSGrad; plain SGD none), found by building it
// for one weight. An optimizer that does not say is assumed to keep 3.
func slotsPerWeight(opt optim.Optimizer) uint64 {
	u, err := opt.Build([]int{1})
	if err != nil {
		return 0 // Build reports the error itself
	}
	if r, ok := u.(optim.Resumable); ok {
		return uint64(len(r.State().Slots))
	}
	return 3
}

// trainingBytes is what a built model holds while training with slots
// optimizer values per weight on batches of rows samples: weights,
// gradients, optimizer slots and the batch buffers of ensure.
func (m *Sequential) trainingBytes(rows int, slots uint64) size {
	var params, units, dropped size
	for _, l := range m.dense {
		params = params.add(size(len(l.w) + len(l.b)))
		units = units.add(size(l.units))
		if len(l.drops) > 0 {
			dropped = dropped.add(size(l.in))
		}
	}
	classes := size(m.OutputSize())
	// x, y, each layer's output and delta, the probabilities, the
	// Dropout layers' outputs.
	perRow := size(m.inSize).add(1).add(units.mul(2)).add(classes).add(dropped)
	return params.mul(2 + slots).add(perRow.mul(uint64(max(rows, m.ws.rows)))).mul(4)
}

// checkTraining fails when training (or evaluating, with slots 0 and no
// optimizer yet) on batches of rows samples needs more memory than the
// machine has.
func (m *Sequential) checkTraining(what string, rows int, slots uint64) error {
	need := m.trainingBytes(rows, slots)
	if need < maxBytes && (physicalMemory == 0 || uint64(need) <= physicalMemory) {
		return nil // without formatting: the training step allocates nothing
	}
	desc := fmt.Sprintf("model %q with %d weights, %d optimizer values per weight and batches of %d samples",
		m.name, m.CountParams(), slots, rows)
	if rows == 0 {
		desc = fmt.Sprintf("model %q with %d weights and %d optimizer values per weight", m.name, m.CountParams(), slots)
	}
	return fmt.Errorf("mlp: %s: %w", what, checkMemory(need, desc))
}

// checkIterations fails when steps more optimizer steps would take the
// iteration count past optim.MaxIterations.
func (m *Sequential) checkIterations(what string, steps uint64) error {
	it := uint64(m.Iterations())
	if steps > uint64(optim.MaxIterations) || it > uint64(optim.MaxIterations)-steps {
		return fmt.Errorf("mlp: %s: %s more optimizer steps after the %d done would pass optim.MaxIterations (%d)",
			what, stepCount(steps), it, optim.MaxIterations)
	}
	return nil
}

func stepCount(steps uint64) string {
	if steps >= math.MaxInt64 {
		return "more than 2⁶³"
	}
	return fmt.Sprint(steps)
}
