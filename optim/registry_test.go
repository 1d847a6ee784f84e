package optim

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestRegistry checks every registered optimizer against what the rest of
// simdmlp expects of it, so that a row with a part missing fails here:
// names that ByName parses back, Keras's defaults filled in, a
// configuration that MarshalConfig and UnmarshalConfig carry over, a state
// that State and SetState carry over bit for bit, a learning rate that
// WithLearningRate sets, and slots that are the kernel table's.
func TestRegistry(t *testing.T) {
	for i, e := range registry {
		t.Run(e.zero.Name(), func(t *testing.T) {
			class := e.zero.Name()
			if e.name != strings.ToLower(class) || Names()[i] != e.name {
				t.Errorf("name %q, Names()[%d] = %q, class %q", e.name, i, Names()[i], class)
			}
			for _, s := range []string{e.name, class, strings.ToUpper(e.name)} {
				if o, err := ByName(s); err != nil || !reflect.DeepEqual(o, e.zero) {
					t.Errorf("ByName(%q) = %v, %v; want %#v", s, o, err, e.zero)
				}
			}
			if _, ok := notImplemented[e.name]; ok {
				t.Errorf("%q is also listed as not implemented", e.name)
			}

			// Defaults: the zero configuration and the filled one are the
			// same optimizer, and every default the struct has is set.
			def := e.resolve(e.zero)
			if reflect.DeepEqual(def, e.zero) {
				t.Fatalf("resolve(zero) fills in nothing: %#v", def)
			}
			var fields map[string]any
			if _, cfg, err := MarshalConfig(def); err != nil || json.Unmarshal(cfg, &fields) != nil {
				t.Fatalf("MarshalConfig(resolve(zero)): %v", err)
			} else if lr, _ := fields["LearningRate"].(float64); !(lr > 0) {
				t.Errorf("default learning rate %v, want Keras's positive default", fields["LearningRate"])
			}
			if s := e.zero.(interface{ String() string }).String(); s != def.(interface{ String() string }).String() ||
				!strings.HasPrefix(s, class+"(learning_rate=") {
				t.Errorf("String() = %q, with defaults filled %q; want both %s(learning_rate=…)", s, def, class)
			}

			// The configuration and the state survive a save and a load.
			o, err := WithLearningRate(e.zero, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			if s := o.(interface{ String() string }).String(); !strings.Contains(s, "learning_rate=0.5,") && !strings.Contains(s, "learning_rate=0.5)") {
				t.Errorf("WithLearningRate(%s, 0.5) = %v", class, o)
			}
			cls, cfg, err := MarshalConfig(o)
			if err != nil || cls != class {
				t.Fatalf("MarshalConfig(%v) = %q, %v", o, cls, err)
			}
			back, err := UnmarshalConfig(cls, cfg)
			if err != nil || !reflect.DeepEqual(back, o) {
				t.Fatalf("UnmarshalConfig(MarshalConfig(%#v)) = %#v, %v", o, back, err)
			}
			checkResume(t, o, back)

			// The slots are the kernel's, in its order.
			k, ok := kernels.LookupOptimizerKernel(e.name)
			if !ok || !reflect.DeepEqual(k.Slots, e.slots) {
				t.Errorf("slots %v, kernel %q has %v (found %v)", e.slots, e.name, k.Slots, ok)
			}
			u := mustBuild(t, e.zero, 3).(Resumable)
			var names, want []string
			for _, s := range u.State().Slots {
				names = append(names, s.Name)
			}
			for _, s := range e.slots {
				if len(want) < len(names) && s.Name == names[len(want)] {
					want = append(want, s.Name)
				}
			}
			if !slices.Equal(names, want) {
				t.Errorf("State() has slots %q, not in the kernel's order %v", names, e.slots)
			}
		})
	}
}

// checkResume steps a and a fresh b, b taking a's state after three steps,
// and fails t unless a fourth step gives both the same bits.
func checkResume(t *testing.T, a, b Optimizer) {
	t.Helper()
	sizes := []int{5, 17}
	rng := rand.New(rand.NewPCG(3, 4))
	pa := randTensors(rng, sizes, 1)
	ua := mustBuild(t, a, sizes...).(Resumable)
	for range 3 {
		ua.Step(pa, randTensors(rng, sizes, 1))
	}
	ub := mustBuild(t, b, sizes...).(Resumable)
	if err := ub.SetState(copyState(ua.State())); err != nil {
		t.Fatal(err)
	}
	pb := clone(pa)
	g := randTensors(rng, sizes, 1)
	ua.Step(pa, clone(g))
	ub.Step(pb, g)
	if !bitsEqual(pa, pb) || ua.Iterations() != 4 || ub.Iterations() != 4 {
		t.Errorf("%v: a step after SetState differs from the same step straight on", a)
	}
	if len(ua.State().Slots) == 0 && ua.Iterations() == 0 {
		t.Errorf("%v: the state carries nothing", a)
	}
}

// TestRegistryCoversKernels fails when the kernel table has an optimizer
// that no configuration type exposes.
func TestRegistryCoversKernels(t *testing.T) {
	for _, k := range kernels.OptimizerKernels() {
		if !slices.Contains(Names(), k.Name) {
			t.Errorf("kernels has optimizer %q; optim registers no configuration for it", k.Name)
		}
	}
}

func TestWithLearningRateForeign(t *testing.T) {
	// The message names every registered type, the first ones as written.
	_, err := WithLearningRate(foreign{}, 0.1)
	if err == nil || !strings.Contains(err.Error(), "Foreign") || !strings.Contains(err.Error(), "only SGD, Adagrad, RMSprop") ||
		!strings.Contains(err.Error(), classNames()) {
		t.Errorf("WithLearningRate(foreign) error = %v", err)
	}
}

type foreign struct{}

func (foreign) Name() string                 { return "Foreign" }
func (foreign) Build([]int) (Updater, error) { return nil, nil }
