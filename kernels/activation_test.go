package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestActivationTable checks that every activation constant has a
// complete row in the activation table and complete kernels at every
// level, and that names and constants map both ways: an activation added
// with its row or its reference left out fails here.
func TestActivationTable(t *testing.T) {
	if got := len(Activations()); got != int(numActivations) || got != len(ActivationNames()) {
		t.Fatalf("Activations() has %d entries, ActivationNames() %d, want %d", got, len(ActivationNames()), numActivations)
	}
	seen := map[string]Activation{}
	for _, a := range Activations() {
		info := activations[a]
		if info.name == "" || info.name != strings.ToLower(strings.TrimSpace(info.name)) {
			t.Errorf("activation %d: name %q, want a lower-case Keras name", int(a), info.name)
		}
		if prev, dup := seen[info.name]; dup {
			t.Errorf("activations %d and %d are both named %q", int(prev), int(a), info.name)
		}
		seen[info.name] = a
		if info.ref.forward == nil || info.ref.grad == nil {
			t.Errorf("activation %v: reference forward or gradient missing", a)
		}
		if got, err := ParseActivation(info.name); err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v; want %v", info.name, got, err, a)
		}
		for _, l := range levels {
			k := l.acts[a]
			if k.forward == nil || k.bias == nil || k.grad == nil {
				t.Errorf("level %s, activation %v: kernel missing", l.name, a)
			}
		}
	}
	if a, err := ParseActivation(""); err != nil || a != ActLinear {
		t.Errorf(`ParseActivation("") = %v, %v; want linear`, a, err)
	}
	for _, bad := range []string{"Relu", "gelu", " relu", "relu6"} {
		_, err := ParseActivation(bad)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) || !strings.Contains(err.Error(), "sigmoid") {
			t.Errorf("ParseActivation(%q) error = %v, want one naming it and the valid names", bad, err)
		}
	}
}

// TestActivationKernelsAgree runs every activation of the table through
// the exported entry points at every level: BiasActivation must equal
// AddBias then the forward kernel of the same level (the fused pass is
// documented as exactly that), and the forward pass and gradient must
// agree with the generic level bit for bit, or for softmax (whose levels
// sum in other orders) within 1 ulp, on shapes with vector tails.
func TestActivationKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	shapes := [][2]int{{1, 1}, {3, 5}, {2, 17}, {7, 33}, {4, 100}}
	forEachLevel(t, func(t *testing.T) {
		for _, act := range Activations() {
			for _, sh := range shapes {
				rows, cols := sh[0], sh[1]
				n := rows * cols
				what := fmt.Sprintf("%v %s", act, shapeName(rows, cols))
				x := randInput(r, n, 4, false)
				bias := randInput(r, cols, 1, false)

				fused := clone(x)
				BiasActivation(act, fused, bias, rows, cols)
				twoPass := clone(x)
				AddBias(twoPass, bias, rows, cols)
				active.acts[act].forward(twoPass, twoPass, rows, cols)
				if i := firstDiffNaN(fused, twoPass); i >= 0 {
					t.Fatalf("%s: BiasActivation [%d] = %v, AddBias then forward %v", what, i, fused[i], twoPass[i])
				}

				y := make([]float32, n)
				active.acts[act].forward(y, x, rows, cols)
				want := make([]float32, n)
				generic.acts[act].forward(want, x, rows, cols)
				dy := randInput(r, n, 1, false)
				dx := make([]float32, n)
				ActivationGrad(act, dx, dy, want, rows, cols)
				wantDx := make([]float32, n)
				generic.acts[act].grad(wantDx, dy, want, rows, cols)
				if act == ActSoftmax {
					checkNearGeneric(t, what+" forward", y, want)
				} else if i := firstDiffNaN(y, want); i >= 0 {
					t.Fatalf("%s: forward [%d] = %v, generic %v", what, i, y[i], want[i])
				}
				if i := firstDiffNaN(dx, wantDx); i >= 0 {
					t.Fatalf("%s: gradient [%d] = %v, generic %v", what, i, dx[i], wantDx[i])
				}
			}
		}
	})
}
