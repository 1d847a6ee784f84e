package optim

import (
	"fmt"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// entry is one optimizer of the registry. Everything in it is derived
// from the configuration type and the kernel table, so a row is one line.
type entry struct {
	// name is Keras's lower-case string for the optimizer ("adam"), the
	// name of its row in the kernel table.
	name string
	// zero is the configuration whose zero fields mean Keras's defaults:
	// what ByName returns.
	zero Optimizer
	// slots are the kernel's slots, with the names saved models use.
	slots []kernels.OptimizerSlot
	// resolve returns o, which owns accepts, with every float field as
	// Build uses it (withDefaults), for the tests.
	resolve func(o Optimizer) Optimizer
	// owns reports whether o is of this entry's configuration type.
	owns func(o Optimizer) bool
	// decode reads a configuration that MarshalConfig wrote, rejecting
	// unknown fields.
	decode func(config []byte) (Optimizer, error)
	// withLR returns o, which owns accepts, with its learning rate set.
	withLR func(o Optimizer, lr float64) Optimizer
}

// config is what a configuration type provides to be registered: Keras's
// defaults and a settable learning rate, on top of Optimizer.
type config[T any] interface {
	Optimizer
	withDefaults() T
	withLearningRate(lr float64) T
}

// register makes the registry row of configuration type T. It panics when
// the kernel table has no row of T's lower-case name, so that a forgotten
// kernel row stops every program and test of the package at start-up.
func register[T config[T]]() entry {
	var zero T
	name := strings.ToLower(zero.Name())
	k, ok := kernels.LookupOptimizerKernel(name)
	if !ok {
		panic(fmt.Sprintf("optim: %s is registered but kernels has no optimizer %q", zero.Name(), name))
	}
	return entry{
		name:    name,
		zero:    zero,
		slots:   k.Slots,
		resolve: func(o Optimizer) Optimizer { return o.(T).withDefaults() },
		owns: func(o Optimizer) bool {
			_, ok := o.(T)
			return ok
		},
		decode: func(config []byte) (Optimizer, error) {
			var c T
			err := strictJSON(config, &c)
			return c, err
		},
		withLR: func(o Optimizer, lr float64) Optimizer { return o.(T).withLearningRate(lr) },
	}
}

// registry lists the optimizers of this package, in the order names and
// error messages list them. Adding an optimizer means its kernel (see
// kernels.OptimizerKernels), its configuration type in a file of its own,
// and its row here (taking it out of notImplemented if Keras has it);
// ByName, the saved state and configuration, the command's -optimizer
// flag and the tests that loop over optimizers all read this list.
var registry = []entry{
	register[SGD](),
	register[Adagrad](),
	register[RMSprop](),
	register[Adam](),
}

// notImplemented names, with their Keras class names, the optimizers Keras
// 2.14 has that simdmlp does not, so that asking for one says so rather than
// calling it unknown.
var notImplemented = map[string]string{
	"adadelta":  "Adadelta",
	"adamax":    "Adamax",
	"nadam":     "Nadam",
	"ftrl":      "Ftrl",
	"adamw":     "AdamW",
	"lion":      "Lion",
	"adafactor": "Adafactor",
}

// Names returns the lower-case names ByName accepts, one per optimizer of
// this package ("sgd", "adagrad", "rmsprop", "adam"), for help texts and
// flag checks.
func Names() []string {
	names := make([]string, len(registry))
	for i, e := range registry {
		names[i] = e.name
	}
	return names
}

// WithLearningRate returns o with its learning rate set to lr, read as the
// configuration structs read it: 0 means Keras's default and Zero an
// explicit zero rate. (0 stays "default" because callers such as the
// command's -lr flag pass 0 when no rate was asked for.) It does not
// validate lr (Build does), and gives an error for an optimizer that is
// not of this package.
func WithLearningRate(o Optimizer, lr float64) (Optimizer, error) {
	e, ok := entryOf(o)
	if !ok {
		return nil, fmt.Errorf("optim: cannot set the learning rate of %s (%T); only %s", o.Name(), o, classNames())
	}
	return e.withLR(o, lr), nil
}

// entryOf returns the registry row of o's configuration type.
func entryOf(o Optimizer) (*entry, bool) {
	for i := range registry {
		if registry[i].owns(o) {
			return &registry[i], true
		}
	}
	return nil, false
}

// entryByClass returns the registry row of Keras's class name ("Adam").
func entryByClass(class string) (*entry, bool) {
	for i := range registry {
		if registry[i].zero.Name() == class {
			return &registry[i], true
		}
	}
	return nil, false
}

// classNames lists the registered class names for messages:
// "SGD, Adagrad, RMSprop and Adam".
func classNames() string {
	var b strings.Builder
	for i, e := range registry {
		switch {
		case i == 0:
		case i == len(registry)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(e.zero.Name())
	}
	return b.String()
}
