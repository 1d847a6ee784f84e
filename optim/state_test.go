package optim

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// stateConfigs has every slot layout: each optimizer, with the optional
// slots on and off, and the shared options that touch the update.
var stateConfigs = []struct {
	opt   Optimizer
	slots []string
}{
	{SGD{}, []string{"m"}},
	{SGD{Momentum: 0.9, Nesterov: true, Options: Options{Clipnorm: 0.5}}, []string{"m"}},
	{Adagrad{LearningRate: 0.1}, []string{"accumulator"}},
	{RMSprop{}, []string{"velocity"}},
	{RMSprop{Momentum: 0.5, Centered: true}, []string{"velocity", "momentum", "average_gradient"}},
	{RMSprop{Centered: true, Options: Options{WeightDecay: 0.01}}, []string{"velocity", "average_gradient"}},
	{Adam{}, []string{"m", "v"}},
	{Adam{Amsgrad: true, Options: Options{GlobalClipnorm: 1}}, []string{"m", "v", "vhat"}},
	// Explicit zeros: no momentum slot for a momentum of Zero. (RMSprop
	// with ρ = 0 and no momentum carries nothing from step to step.)
	{RMSprop{Momentum: Zero, Epsilon: Zero, Options: Options{WeightDecay: Zero}}, []string{"velocity"}},
	{RMSprop{Rho: Zero, Momentum: 0.5}, []string{"velocity", "momentum"}},
	{Adam{Beta1: Zero, Epsilon: Zero, Amsgrad: true, Options: Options{Clipnorm: Zero}}, []string{"m", "v", "vhat"}},
}

func copyState(s State) State {
	c := State{Iterations: s.Iterations}
	for _, sl := range s.Slots {
		v := make([][]float32, len(sl.Values))
		for i, a := range sl.Values {
			v[i] = slices.Clone(a)
		}
		c.Slots = append(c.Slots, Slot{Name: sl.Name, Values: v})
	}
	return c
}

// Five steps straight give the bits of three steps, the state moved into
// a fresh updater, and two more: the state is all an updater carries.
func TestStateResumesExactly(t *testing.T) {
	sizes := []int{7, 3, 20}
	for _, c := range stateConfigs {
		rng := rand.New(rand.NewPCG(1, 2))
		params := randTensors(rng, sizes, 1)
		grads := make([][][]float32, 5)
		for i := range grads {
			grads[i] = randTensors(rng, sizes, 1)
		}
		step := func(u Updater, p [][]float32, i int) {
			g := make([][]float32, len(grads[i]))
			for j := range g {
				g[j] = slices.Clone(grads[i][j]) // clipping rewrites gradients
			}
			u.Step(p, g)
		}
		clone := func(p [][]float32) [][]float32 {
			q := make([][]float32, len(p))
			for i := range p {
				q[i] = slices.Clone(p[i])
			}
			return q
		}

		straight, pa := mustBuild(t, c.opt, sizes...), clone(params)
		for i := range 5 {
			step(straight, pa, i)
		}

		first, pb := mustBuild(t, c.opt, sizes...), clone(params)
		for i := range 3 {
			step(first, pb, i)
		}
		st := first.(Resumable).State()
		var names []string
		for _, s := range st.Slots {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, c.slots) || st.Iterations != 3 {
			t.Errorf("%v: State has slots %q and %d iterations, want %q and 3", c.opt, names, st.Iterations, c.slots)
		}
		second := mustBuild(t, c.opt, sizes...).(Resumable)
		if err := second.SetState(copyState(st)); err != nil {
			t.Fatalf("%v: SetState: %v", c.opt, err)
		}
		if second.Iterations() != 3 {
			t.Errorf("%v: Iterations after SetState = %d, want 3", c.opt, second.Iterations())
		}
		for i := 3; i < 5; i++ {
			step(second, pb, i)
		}
		if !bitsEqual(pa, pb) {
			t.Errorf("%v: resumed after 3 of 5 steps, the parameters differ from 5 straight steps", c.opt)
		}

		// Without the state the resumed run must differ, or the check
		// above shows nothing; plain SGD's slot is unused (μ = 0), so
		// there it cannot.
		pc := clone(params)
		pre := mustBuild(t, c.opt, sizes...)
		for i := range 3 {
			step(pre, pc, i)
		}
		fresh := mustBuild(t, c.opt, sizes...)
		for i := 3; i < 5; i++ {
			step(fresh, pc, i)
		}
		if stateless := reflect.DeepEqual(c.opt, SGD{}); !stateless && bitsEqual(pa, pc) {
			t.Errorf("%v: a fresh updater gives the resumed run's parameters; the test shows nothing", c.opt)
		}
	}
}

// State shares the updater's arrays: they move with Step.
func TestStateIsLive(t *testing.T) {
	u := mustBuild(t, Adam{}, 4).(Resumable)
	st := u.State()
	before := slices.Clone(st.Slots[0].Values[0])
	u.Step([][]float32{{1, 2, 3, 4}}, [][]float32{{1, 1, 1, 1}})
	if slices.Equal(before, st.Slots[0].Values[0]) {
		t.Error("the m slot returned by State did not change with Step")
	}
}

func TestSetStateErrors(t *testing.T) {
	sizes := []int{3, 2}
	good := func(o Optimizer) (Resumable, State) {
		u := mustBuild(t, o, sizes...).(Resumable)
		u.Step([][]float32{{1, 2, 3}, {4, 5}}, [][]float32{{0.5, -1, 2}, {1, 1}})
		return u, copyState(u.State())
	}
	for _, c := range []struct {
		opt    Optimizer
		change func(s *State)
		want   string
	}{
		{Adam{}, func(s *State) { s.Iterations = -1 }, "iterations = -1 is negative"},
		{Adam{}, func(s *State) { s.Slots = s.Slots[:1] }, `1 slots given, the configuration has 2 ("m", "v")`},
		{Adam{}, func(s *State) { s.Slots[1].Name = "vhat" }, `slot 1 is "vhat", want "v"`},
		{Adam{}, func(s *State) { s.Slots[0].Values = s.Slots[0].Values[:1] }, `slot "m" has 1 arrays, want one per parameter tensor, 2`},
		{Adam{}, func(s *State) { s.Slots[0].Values[1] = []float32{1} }, `slot "m" array 1 has length 1, want 2`},
		{Adam{}, func(s *State) { s.Slots[0].Values[0][2] = float32(math.NaN()) }, `slot "m" array 0 holds NaN at index 2`},
		{Adam{}, func(s *State) { s.Slots[1].Values[1][0] = -1 }, `slot "v" array 1 holds -1 at index 0`},
		{Adagrad{}, func(s *State) { s.Slots[0].Values[0][0] = -0.5 }, `slot "accumulator" array 0 holds -0.5`},
		{RMSprop{}, func(s *State) { s.Slots[0].Values[0][1] = float32(math.Inf(1)) }, `slot "velocity" array 0 holds +Inf`},
		{SGD{}, func(s *State) { s.Slots = nil }, `0 slots given, the configuration has 1 ("m")`},
	} {
		u, st := good(c.opt)
		before := copyState(u.State())
		bad := copyState(st)
		c.change(&bad)
		err := u.SetState(bad)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: SetState error %v, want one containing %q", c.opt, err, c.want)
		}
		if after := u.State(); !reflect.DeepEqual(copyState(after), before) {
			t.Errorf("%v: a failed SetState changed the updater", c.opt)
		}
	}
	// Momentum (an update direction) may be negative.
	u, st := good(SGD{Momentum: 0.9})
	st.Slots[0].Values[0][0] = -3
	if err := u.SetState(st); err != nil {
		t.Errorf("SGD momentum -3: %v", err)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	for _, c := range stateConfigs {
		for _, o := range []Optimizer{c.opt, withLR(c.opt, 1e-50)} {
			name, cfg, err := MarshalConfig(o)
			if err != nil {
				t.Fatalf("%v: %v", o, err)
			}
			if name != o.Name() {
				t.Errorf("%v: class %q", o, name)
			}
			back, err := UnmarshalConfig(name, cfg)
			if err != nil {
				t.Fatalf("%v: UnmarshalConfig(%s): %v", o, cfg, err)
			}
			if !reflect.DeepEqual(back, o) {
				t.Errorf("%v: round trip through %s gives %#v", o, cfg, back)
			}
		}
	}
	for _, c := range []struct{ class, cfg, want string }{
		{"Nadam", `{}`, `unknown optimizer class "Nadam"`},
		{"Adam", `{"Beta3":1}`, `unknown field "Beta3"`},
		{"Adam", `{"Beta1":1}`, "Beta1 = 1"},
		{"SGD", `{"LearningRate":-1}`, "LearningRate = -1"},
		{"SGD", `{} {}`, "data after the JSON object"},
		{"RMSprop", `[1]`, "RMSprop configuration"},
	} {
		if _, err := UnmarshalConfig(c.class, []byte(c.cfg)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("UnmarshalConfig(%q, %s): %v, want an error containing %q", c.class, c.cfg, err, c.want)
		}
	}
}
