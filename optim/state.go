package optim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// State is what an Updater carries from one step to the next: its
// iteration count and its slot arrays. Saving it with the weights and
// restoring it into a fresh Updater of the same configuration lets
// training resume exactly where it stopped.
type State struct {
	// Iterations is the number of steps applied (Updater.Iterations).
	Iterations int64
	// Slots lists the updater's slot variables in a fixed order, each
	// with one array per parameter tensor in Build's order.
	Slots []Slot
}

// Slot is one slot variable of an optimizer across all parameter tensors.
type Slot struct {
	// Name is Keras's variable name for the slot: "m" (SGD's momentum,
	// Adam's first moment), "v" and "vhat" (Adam), "accumulator"
	// (Adagrad), "velocity", "momentum" and "average_gradient" (RMSprop).
	Name string
	// Values holds one array per parameter tensor, of that tensor's
	// length.
	Values [][]float32
}

// Resumable is an Updater whose state can be read and restored. The
// Updaters of this package implement it.
type Resumable interface {
	Updater
	// State returns the iteration count and the slots. The slot arrays
	// are the updater's own, not copies: they change with every Step.
	State() State
	// SetState replaces the iteration count and copies the slot values
	// from s, which must name the same slots, in the same order, with the
	// same number and lengths of arrays as State gives. Values must be
	// finite, and the slots that hold squares (Adam's v and vhat,
	// Adagrad's accumulator, RMSprop's velocity) non-negative. On error
	// the updater is unchanged.
	SetState(s State) error
}

// slotSpec is one slot of an updater, with what SetState checks.
type slotSpec struct {
	name   string
	values [][]float32
	nonNeg bool // holds a sum of squares
}

// keep records the slot arrays of the updater being built, one per slot of
// its kernel (kernels.OptimizerKernels), in that order; an array the
// configuration does not use has nil tensors. The names and checks come
// from the kernel table, so State and SetState serve every optimizer.
func (c *core) keep(arrays ...[][]float32) {
	e, ok := entryByClass(c.name)
	if !ok {
		panic(fmt.Sprintf("optim: %s is not in the registry", c.name))
	}
	if len(e.slots) != len(arrays) {
		panic(fmt.Sprintf("optim: %s: Build keeps %d slot arrays; its kernel has %d slots", c.name, len(arrays), len(e.slots)))
	}
	c.slots = make([]slotSpec, len(arrays)) // not nil, even with no slots
	for i, a := range arrays {
		c.slots[i] = slotSpec{e.slots[i].Name, a, e.slots[i].NonNegative}
	}
}

// State returns the iteration count and the slots the configuration uses,
// in the order and with the names Keras gives them (see Resumable).
func (c *core) State() State {
	c.mustKeep()
	s := State{Iterations: c.iter}
	for _, sp := range c.slots {
		if used(sp.values) {
			s.Slots = append(s.Slots, Slot{Name: sp.name, Values: sp.values})
		}
	}
	return s
}

func used(v [][]float32) bool { return len(v) > 0 && v[0] != nil }

// SetState restores a state from State (see Resumable).
func (c *core) SetState(s State) error {
	c.mustKeep()
	return c.setState(c.slots, s)
}

// mustKeep panics when Build forgot keep, which would otherwise save and
// restore the iteration count alone, silently.
func (c *core) mustKeep() {
	if c.slots == nil {
		panic(fmt.Sprintf("optim: %s: Build did not keep its slots", c.name))
	}
}

func (c *core) setState(specs []slotSpec, s State) error {
	if s.Iterations < 0 {
		return fmt.Errorf("optim: %s: SetState: iterations = %d is negative", c.name, s.Iterations)
	}
	if s.Iterations > MaxIterations {
		return fmt.Errorf("optim: %s: SetState: iterations = %d is more than MaxIterations = %d", c.name, s.Iterations, MaxIterations)
	}
	var live []slotSpec
	for _, sp := range specs {
		if used(sp.values) {
			live = append(live, sp)
		}
	}
	if len(s.Slots) != len(live) {
		return fmt.Errorf("optim: %s: SetState: %d slots given, the configuration has %d (%s)",
			c.name, len(s.Slots), len(live), slotNames(live))
	}
	for i, sp := range live {
		got := s.Slots[i]
		if got.Name != sp.name {
			return fmt.Errorf("optim: %s: SetState: slot %d is %q, want %q (slots: %s)", c.name, i, got.Name, sp.name, slotNames(live))
		}
		if len(got.Values) != len(sp.values) {
			return fmt.Errorf("optim: %s: SetState: slot %q has %d arrays, want one per parameter tensor, %d",
				c.name, sp.name, len(got.Values), len(sp.values))
		}
		for j, v := range got.Values {
			if len(v) != len(sp.values[j]) {
				return fmt.Errorf("optim: %s: SetState: slot %q array %d has length %d, want %d",
					c.name, sp.name, j, len(v), len(sp.values[j]))
			}
			for k, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || sp.nonNeg && x < 0 {
					return fmt.Errorf("optim: %s: SetState: slot %q array %d holds %v at index %d", c.name, sp.name, j, x, k)
				}
			}
		}
	}
	for i, sp := range live {
		for j, v := range s.Slots[i].Values {
			copy(sp.values[j], v)
		}
	}
	c.iter = s.Iterations
	return nil
}

func slotNames(specs []slotSpec) string {
	var b bytes.Buffer
	for i, sp := range specs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", sp.name)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// MarshalConfig returns an optimizer's class name and its configuration
// as JSON (the struct's fields, zero meaning default as in the struct),
// for UnmarshalConfig to rebuild it. It works for the optimizers of this
// package. An explicit zero is written as Zero's value, 5e-324, not as 0:
// configurations have always stored 0 for "default", and saved models hold
// such configurations, so 0 keeps that meaning. encoding/json writes and
// reads that number exactly, so the configuration comes back equal, field
// for field.
func MarshalConfig(o Optimizer) (className string, config []byte, err error) {
	if _, ok := entryOf(o); !ok {
		return "", nil, fmt.Errorf("optim: cannot save the configuration of %T; only %s", o, classNames())
	}
	config, err = json.Marshal(o)
	if err != nil {
		return "", nil, fmt.Errorf("optim: %s: %w", o.Name(), err)
	}
	return o.Name(), config, nil
}

// UnmarshalConfig rebuilds the optimizer that MarshalConfig described: 0
// or a missing field means the default, 5e-324 an explicit zero (Zero),
// and any other number itself. It rejects unknown class names and fields,
// and configurations Build would reject.
func UnmarshalConfig(className string, config []byte) (Optimizer, error) {
	e, ok := entryByClass(className)
	if !ok {
		return nil, fmt.Errorf("optim: unknown optimizer class %q (%s are known)", className, classNames())
	}
	o, err := e.decode(config)
	if err != nil {
		return nil, fmt.Errorf("optim: %s configuration: %w", className, err)
	}
	if _, err := o.Build(nil); err != nil {
		return nil, err
	}
	return o, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}
