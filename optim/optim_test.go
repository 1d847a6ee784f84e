package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func mustBuild(t *testing.T, o Optimizer, sizes ...int) Updater {
	t.Helper()
	u, err := o.Build(sizes)
	if err != nil {
		t.Fatalf("%v.Build(%v): %v", o, sizes, err)
	}
	return u
}

func bitsEqual(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(p, q float32) bool {
			return math.Float32bits(p) == math.Float32bits(q)
		})
	})
}

// run builds o and applies steps random steps, returning the parameters.
func run(t *testing.T, o Optimizer, steps int) [][]float32 {
	t.Helper()
	sizes := []int{5, 3}
	u := mustBuild(t, o, sizes...)
	rng := rand.New(rand.NewPCG(7, 8))
	params := randTensors(rng, sizes, 1)
	for range steps {
		u.Step(params, randTensors(rng, sizes, 1))
	}
	return params
}

func TestZeroValueIsKerasDefaults(t *testing.T) {
	for _, c := range []struct{ zero, explicit Optimizer }{
		{SGD{}, SGD{LearningRate: 0.01, Momentum: 0, Nesterov: false}},
		{Adagrad{}, Adagrad{LearningRate: 0.001, InitialAccumulatorValue: 0.1, Epsilon: 1e-7}},
		{RMSprop{}, RMSprop{LearningRate: 0.001, Rho: 0.9, Momentum: 0, Epsilon: 1e-7}},
		{Adam{}, Adam{LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}},
	} {
		if a, b := run(t, c.zero, 4), run(t, c.explicit, 4); !bitsEqual(a, b) {
			t.Errorf("%s: zero value and explicit defaults differ after 4 steps:\n%v\n%v", c.zero.Name(), a, b)
		}
		if a, b := fmt.Sprint(c.zero), fmt.Sprint(c.explicit); a != b {
			t.Errorf("String: zero value %q, explicit defaults %q", a, b)
		}
		// A non-default value must change the result, or the comparison
		// above proves nothing.
		if a, b := run(t, c.zero, 4), run(t, withLR(c.zero, 0.5), 4); bitsEqual(a, b) {
			t.Errorf("%s: learning rate 0.5 gives the same parameters as the default", c.zero.Name())
		}
	}
}

func withLR(o Optimizer, lr float64) Optimizer {
	switch c := o.(type) {
	case SGD:
		c.LearningRate = lr
		return c
	case Adagrad:
		c.LearningRate = lr
		return c
	case RMSprop:
		c.LearningRate = lr
		return c
	case Adam:
		c.LearningRate = lr
		return c
	}
	panic("withLR: unknown optimizer")
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		opt  fmt.Stringer
		want string
	}{
		{SGD{}, "SGD(learning_rate=0.01, momentum=0.0, nesterov=False)"},
		{SGD{LearningRate: 0.1, Momentum: 0.9, Nesterov: true}, "SGD(learning_rate=0.1, momentum=0.9, nesterov=True)"},
		{Adagrad{}, "Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-07)"},
		{RMSprop{}, "RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)"},
		{RMSprop{Momentum: 0.5, Centered: true}, "RMSprop(learning_rate=0.001, rho=0.9, momentum=0.5, epsilon=1e-07, centered=True)"},
		{Adam{}, "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False)"},
		{
			Adam{Amsgrad: true, Options: Options{WeightDecay: 0.004, Clipnorm: 1, Clipvalue: 0.5, GlobalClipnorm: 1e-5}},
			"Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=True, " +
				"weight_decay=0.004, clipnorm=1.0, clipvalue=0.5, global_clipnorm=1e-05)",
		},
	} {
		if got := c.opt.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

// TestPyFloat compares with Python 3.11's repr of the same floats.
func TestPyFloat(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0.001, "0.001"}, {0.9, "0.9"}, {1e-7, "1e-07"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{10, "10.0"}, {1e-5, "1e-05"}, {0.0001, "0.0001"}, {1e16, "1e+16"},
		{1e15, "1000000000000000.0"}, {123.5, "123.5"}, {math.Float64frombits(0x3fd3333333333334), "0.30000000000000004"},
		{1.5e-7, "1.5e-07"}, {2.5e20, "2.5e+20"}, {1.0 / 3, "0.3333333333333333"},
		{12345678901234567, "1.2345678901234568e+16"}, {math.Inf(1), "inf"}, {math.NaN(), "nan"},
	} {
		if got := pyFloat(c.x); got != c.want {
			t.Errorf("pyFloat(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

func TestByName(t *testing.T) {
	for _, c := range []struct {
		name string
		want Optimizer
	}{
		{"sgd", SGD{}}, {"SGD", SGD{}}, {"Sgd", SGD{}},
		{"adagrad", Adagrad{}}, {"Adagrad", Adagrad{}},
		{"rmsprop", RMSprop{}}, {"RMSprop", RMSprop{}}, {"RMSPROP", RMSprop{}},
		{"adam", Adam{}}, {"Adam", Adam{}}, {"aDaM", Adam{}},
		{DefaultName, RMSprop{}},
	} {
		got, err := ByName(c.name)
		if err != nil {
			t.Errorf("ByName(%q): %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("ByName(%q) = %#v, want %#v", c.name, got, c.want)
		}
	}
	valid := []string{`"sgd"`, `"adagrad"`, `"rmsprop"`, `"adam"`}
	for _, name := range []string{"adadelta", "Adamax", "NADAM", "ftrl", "AdamW", "lion", "adafactor"} {
		_, err := ByName(name)
		if err == nil || !strings.Contains(err.Error(), "not implemented") ||
			!strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("ByName(%q) error = %v, want it to say %q is not implemented", name, err, name)
			continue
		}
		for _, v := range valid {
			if !strings.Contains(err.Error(), v) {
				t.Errorf("ByName(%q) error %q does not list %s", name, err, v)
			}
		}
	}
	for _, name := range []string{"", "adam ", "momentum", "sgd2", "rms"} {
		_, err := ByName(name)
		if err == nil || !strings.Contains(err.Error(), "unknown optimizer") {
			t.Errorf("ByName(%q) error = %v, want unknown optimizer", name, err)
			continue
		}
		for _, v := range valid {
			if !strings.Contains(err.Error(), v) {
				t.Errorf("ByName(%q) error %q does not list %s", name, err, v)
			}
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		o    Optimizer
		want string
	}{{SGD{}, "SGD"}, {Adagrad{}, "Adagrad"}, {RMSprop{}, "RMSprop"}, {Adam{}, "Adam"}} {
		if got := c.o.Name(); got != c.want {
			t.Errorf("Name() = %q, want %q", got, c.want)
		}
	}
	// Every other optimizer's class name is its registry name in Keras's
	// case, which is what MarshalConfig saves.
	for _, e := range registry {
		if got := e.zero.Name(); strings.ToLower(got) != e.name {
			t.Errorf("%s: Name() = %q", e.name, got)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		o     Optimizer
		sizes []int
		want  string // substring of the error
	}{
		{SGD{LearningRate: -0.1}, nil, "LearningRate = -0.1 is negative"},
		{SGD{Momentum: -0.5}, nil, "Momentum = -0.5 is negative"},
		{SGD{Momentum: 1.01}, nil, "Momentum = 1.01 must be at most 1"},
		{SGD{LearningRate: nan}, nil, "not a finite number"},
		{SGD{LearningRate: inf}, nil, "not a finite number"},
		{SGD{LearningRate: 1e39}, nil, "overflows float32"},
		{Adagrad{Epsilon: -1e-7}, nil, "Epsilon = -1e-07 is negative"},
		{Adagrad{InitialAccumulatorValue: -1}, nil, "InitialAccumulatorValue = -1 is negative"},
		{Adagrad{LearningRate: -1}, nil, "LearningRate"},
		{RMSprop{Rho: 1.5}, nil, "Rho = 1.5 must be at most 1"},
		{RMSprop{Rho: -0.5}, nil, "Rho = -0.5 is negative"},
		{RMSprop{Momentum: 2}, nil, "Momentum = 2 must be at most 1"},
		{RMSprop{Epsilon: nan}, nil, "Epsilon = NaN is not a finite number"},
		{Adam{Beta1: 1}, nil, "Beta1 = 1 must be less than 1"},
		{Adam{Beta2: 1.5}, nil, "Beta2 = 1.5 must be less than 1"},
		{Adam{Beta2: -0.1}, nil, "Beta2 = -0.1 is negative"},
		{Adam{Epsilon: -1}, nil, "Epsilon"},
		{Adam{Options: Options{Clipnorm: 1, GlobalClipnorm: 1}}, nil, "set at most one"},
		{SGD{Options: Options{Clipnorm: 1, GlobalClipnorm: 2}}, nil, "Clipnorm = 1 and GlobalClipnorm = 2"},
		{Adam{Options: Options{Clipnorm: -1}}, nil, "Clipnorm = -1 is negative"},
		{RMSprop{Options: Options{GlobalClipnorm: -1}}, nil, "GlobalClipnorm = -1 is negative"},
		{Adagrad{Options: Options{Clipvalue: -1}}, nil, "Clipvalue = -1 is negative"},
		{SGD{Options: Options{WeightDecay: -0.01}}, nil, "WeightDecay = -0.01 is negative"},
		{SGD{Options: Options{WeightDecay: inf}}, nil, "WeightDecay = +Inf is not a finite number"},
		{Adam{}, []int{3, -1}, "sizes[1] = -1 is negative"},
	} {
		u, err := c.o.Build(c.sizes)
		if err == nil {
			t.Errorf("%#v.Build(%v) = %v, want an error containing %q", c.o, c.sizes, u, c.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "optim: "+c.o.Name()+": ") {
			t.Errorf("%#v.Build: error %q, want prefix %q and %q", c.o, msg, "optim: "+c.o.Name()+": ", c.want)
		}
	}
	// Edge values that are allowed.
	for _, o := range []Optimizer{
		SGD{Momentum: 1}, RMSprop{Rho: 1, Momentum: 1}, Adam{Beta1: 0.999999, Beta2: 0.999999},
		Adagrad{LearningRate: 1e-50, Epsilon: 1e-50, InitialAccumulatorValue: 1e-50},
		Adam{Options: Options{Clipnorm: 1, Clipvalue: 1, WeightDecay: 1}},
	} {
		if _, err := o.Build([]int{0, 2}); err != nil {
			t.Errorf("%#v.Build: %v", o, err)
		}
	}
}

// TestTinyValuesRoundToZero: a learning rate below float32's range, the
// way to a zero rate before Zero existed, still rounds to zero at use, so
// configurations written that way keep their meaning.
func TestTinyValuesRoundToZero(t *testing.T) {
	for _, o := range []Optimizer{SGD{LearningRate: 1e-50}, Adam{LearningRate: 1e-50}} {
		u := mustBuild(t, o, 2)
		p := [][]float32{{1, -2}}
		u.Step(p, [][]float32{{0.5, 3}})
		if p[0][0] != 1 || p[0][1] != -2 {
			t.Errorf("%v: parameters moved to %v with learning rate 1e-50", o, p[0])
		}
	}
}

func TestSlotInitialValues(t *testing.T) {
	sizes := []int{3, 0, 2}
	acc := mustBuild(t, Adagrad{InitialAccumulatorValue: 0.3}, sizes...).(*adagradUpdater).acc
	def := mustBuild(t, Adagrad{}, sizes...).(*adagradUpdater).acc
	for i, n := range sizes {
		if len(acc[i]) != n || cap(acc[i]) != n {
			t.Errorf("acc[%d]: len %d cap %d, want %d", i, len(acc[i]), cap(acc[i]), n)
		}
		for j := range acc[i] {
			if acc[i][j] != float32(0.3) || def[i][j] != float32(0.1) {
				t.Errorf("acc[%d][%d] = %v and %v, want float32(0.3) and float32(0.1)", i, j, acc[i][j], def[i][j])
			}
		}
	}
	// SGD's momentum slot exists even without momentum; RMSprop's
	// momentum and mean-gradient slots exist only when asked for.
	if m := mustBuild(t, SGD{}, sizes...).(*sgdUpdater).m; len(m[0]) != 3 || len(m[2]) != 2 {
		t.Errorf("SGD{} momentum slots have lengths %d, %d; want 3, 2", len(m[0]), len(m[2]))
	}
	r := mustBuild(t, RMSprop{}, sizes...).(*rmspropUpdater)
	if r.mom[0] != nil || r.mg[0] != nil {
		t.Error("RMSprop{} has momentum or mean-gradient slots")
	}
	r = mustBuild(t, RMSprop{Momentum: 0.1, Centered: true}, sizes...).(*rmspropUpdater)
	if len(r.mom[0]) != 3 || len(r.mg[2]) != 2 {
		t.Error("RMSprop{Momentum: 0.1, Centered: true} lacks momentum or mean-gradient slots")
	}
	if a := mustBuild(t, Adam{}, sizes...).(*adamUpdater); a.vhat[0] != nil {
		t.Error("Adam{} has a v̂ slot")
	}
	for _, o := range []Optimizer{SGD{Momentum: 0.9}, RMSprop{Momentum: 0.9, Centered: true}, Adam{Amsgrad: true}} {
		for _, s := range slotsOf(mustBuild(t, o, sizes...)) {
			for i := range s {
				for j, x := range s[i] {
					if x != 0 {
						t.Errorf("%v: slot [%d][%d] = %v, want 0", o, i, j, x)
					}
				}
			}
		}
	}
}

func slotsOf(u Updater) [][][]float32 {
	switch u := u.(type) {
	case *sgdUpdater:
		return [][][]float32{u.m}
	case *adagradUpdater:
		return [][][]float32{u.acc}
	case *rmspropUpdater:
		return [][][]float32{u.v, u.mom, u.mg}
	case *adamUpdater:
		return [][][]float32{u.m, u.v, u.vhat}
	}
	panic("slotsOf: unknown updater")
}

// TestBuildCopiesSizes: changing the caller's sizes after Build must not
// change what Step accepts.
func TestBuildCopiesSizes(t *testing.T) {
	sizes := []int{2}
	u := mustBuild(t, SGD{}, sizes...)
	sizes[0] = 5
	u.Step([][]float32{{1, 2}}, [][]float32{{1, 1}})
}

// sgdHalf is plain SGD with learning rate 0.5, so that θ starting at 0
// ends at -g'/2 exactly and shows the clipped gradient g'.
func sgdHalf(o Options) SGD { return SGD{LearningRate: 0.5, Options: o} }

func TestClipnorm(t *testing.T) {
	u := mustBuild(t, sgdHalf(Options{Clipnorm: 2.5}), 2, 2, 3)
	p := [][]float32{{0, 0}, {0, 0}, {0, 0, 0}}
	// Norms 5 (clipped by 2.5/5 = 0.5), 0.5 and 0 (both kept as they are).
	g := [][]float32{{3, 4}, {0.3, -0.4}, {0, 0, 0}}
	u.Step(p, g)
	wantG := [][]float32{{1.5, 2}, {0.3, -0.4}, {0, 0, 0}}
	wantP := [][]float32{{-0.75, -1}, {-0.15, 0.2}, {0, 0, 0}}
	if !bitsEqual(g, wantG) || !bitsEqual(p, wantP) {
		t.Errorf("clipnorm 2.5: grads %v, params %v; want %v, %v", g, p, wantG, wantP)
	}
	// A norm exactly at the threshold is left alone.
	u = mustBuild(t, sgdHalf(Options{Clipnorm: 5}), 2)
	g = [][]float32{{3, 4}}
	u.Step([][]float32{{0, 0}}, g)
	if g[0][0] != 3 || g[0][1] != 4 {
		t.Errorf("clipnorm 5 on a norm-5 gradient gave %v", g[0])
	}
}

func TestGlobalClipnorm(t *testing.T) {
	for _, c := range []struct {
		c    float64
		want [][]float32
	}{
		{6.5, [][]float32{{1.5, 2}, {0, 6}}}, // global norm 13
		{13, [][]float32{{3, 4}, {0, 12}}},
		{20, [][]float32{{3, 4}, {0, 12}}},
	} {
		u := mustBuild(t, sgdHalf(Options{GlobalClipnorm: c.c}), 2, 2)
		p := [][]float32{{0, 0}, {0, 0}}
		g := [][]float32{{3, 4}, {0, 12}}
		u.Step(p, g)
		if !bitsEqual(g, c.want) {
			t.Errorf("global_clipnorm %v: grads %v, want %v", c.c, g, c.want)
		}
		for i := range p {
			for j := range p[i] {
				if p[i][j] != -0.5*c.want[i][j] {
					t.Errorf("global_clipnorm %v: params %v, want -0.5·%v", c.c, p, c.want)
				}
			}
		}
	}
}

func TestClipvalue(t *testing.T) {
	u := mustBuild(t, sgdHalf(Options{Clipvalue: 1}), 5)
	nan := float32(math.NaN())
	g := [][]float32{{3, -4, 0.5, -1, nan}}
	u.Step([][]float32{make([]float32, 5)}, g)
	want := [][]float32{{1, -1, 0.5, -1, nan}}
	if !bitsEqual(g, want) {
		t.Errorf("clipvalue 1: grads %v, want %v", g, want)
	}
}

// TestClipPrecedence: Keras uses clipnorm, else global_clipnorm, else
// clipvalue, and only one of them.
func TestClipPrecedence(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want []float32
	}{
		{Options{Clipnorm: 100, Clipvalue: 1}, []float32{3, 4}},
		{Options{GlobalClipnorm: 100, Clipvalue: 1}, []float32{3, 4}},
		{Options{Clipnorm: 2.5, Clipvalue: 1}, []float32{1.5, 2}},
		{Options{Clipvalue: 1}, []float32{1, 1}},
	} {
		u := mustBuild(t, sgdHalf(c.o), 2)
		g := [][]float32{{3, 4}}
		u.Step([][]float32{{0, 0}}, g)
		if !slices.Equal(g[0], c.want) {
			t.Errorf("%+v: grads %v, want %v", c.o, g[0], c.want)
		}
	}
}

func TestClipNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	// Per tensor: an infinite norm scales by c/∞ = 0, so finite entries
	// become 0 and infinite ones NaN; other tensors are unaffected.
	u := mustBuild(t, sgdHalf(Options{Clipnorm: 1}), 3, 1)
	g := [][]float32{{inf, 2, -3}, {0.5}}
	u.Step([][]float32{{0, 0, 0}, {0}}, g)
	if !math.IsNaN(float64(g[0][0])) || g[0][1] != 0 || g[0][2] != 0 || g[1][0] != 0.5 {
		t.Errorf("clipnorm with an Inf entry: grads %v, want [NaN 0 -0] [0.5]", g)
	}
	// Globally: a non-finite norm makes every gradient NaN, as TF does.
	for _, bad := range []float32{inf, float32(math.NaN())} {
		u = mustBuild(t, sgdHalf(Options{GlobalClipnorm: 1}), 2, 1)
		g = [][]float32{{bad, 0.1}, {0.2}}
		u.Step([][]float32{{0, 0}, {0}}, g)
		for i := range g {
			for j := range g[i] {
				if !math.IsNaN(float64(g[i][j])) {
					t.Errorf("global_clipnorm with %v: grads %v, want all NaN", bad, g)
				}
			}
		}
	}
}

func TestWeightDecay(t *testing.T) {
	// θ ← θ - θ·wd·lr, then the update from the old gradient:
	// 2 - 2·0.25·0.5 - 0.5·1 = 1.25 and -4 + 0.5 - 0 = -3.5. Decaying after
	// the update instead would give 1.3125.
	u := mustBuild(t, sgdHalf(Options{WeightDecay: 0.25}), 2)
	p := [][]float32{{2, -4}}
	u.Step(p, [][]float32{{1, 0}})
	if p[0][0] != 1.25 || p[0][1] != -3.5 {
		t.Errorf("weight decay: params %v, want [1.25 -3.5]", p[0])
	}
	// Keras's float32 order (θ·wd)·lr rounded twice, then subtracted,
	// against the single factor 1-wd·lr, which is not what Keras does.
	const wd, lr = 0.004, 0.001
	u = mustBuild(t, Adam{LearningRate: lr, Options: Options{WeightDecay: wd}}, 1000)
	rng := rand.New(rand.NewPCG(3, 4))
	p = randTensors(rng, []int{1000}, 1)
	want := slices.Clone(p[0])
	factor := float32(1 - float32(wd)*float32(lr))
	differs := 0
	for j, x := range want {
		want[j] = x - float32(float32(x*float32(wd))*float32(lr))
		if want[j] != x*factor {
			differs++
		}
	}
	u.Step(p, [][]float32{make([]float32, 1000)}) // zero gradients: Adam moves nothing
	if !slices.Equal(p[0], want) {
		t.Error("weight decay does not follow θ - (θ·wd)·lr in float32")
	}
	if differs == 0 {
		t.Error("test data cannot tell θ - θ·wd·lr from θ·(1-wd·lr)")
	}
}

// registered returns every registered optimizer with Keras's defaults,
// then extra, for the tests that must cover them all.
func registered(extra ...Optimizer) []Optimizer {
	var all []Optimizer
	for _, e := range registry {
		all = append(all, e.zero)
	}
	return append(all, extra...)
}

func TestIterations(t *testing.T) {
	for _, o := range registered() {
		u := mustBuild(t, o, 2)
		if u.Iterations() != 0 {
			t.Errorf("%v: Iterations() = %d after Build", o, u.Iterations())
		}
		p := [][]float32{{1, 2}}
		for k := int64(1); k <= 5; k++ {
			u.Step(p, [][]float32{{0.1, 0.2}})
			if u.Iterations() != k {
				t.Errorf("%v: Iterations() = %d after %d steps", o, u.Iterations(), k)
			}
		}
	}
	// An updater with no tensors still counts.
	u := mustBuild(t, Adam{})
	u.Step(nil, nil)
	if u.Iterations() != 1 {
		t.Errorf("empty Adam: Iterations() = %d after one step", u.Iterations())
	}
}

var allocConfigs = registered(
	SGD{Momentum: 0.9, Nesterov: true, Options: Options{Clipnorm: 1, WeightDecay: 0.01}},
	Adagrad{Options: Options{GlobalClipnorm: 1}},
	RMSprop{Momentum: 0.9, Centered: true, Options: Options{Clipvalue: 0.1, WeightDecay: 0.01}},
	Adam{Amsgrad: true, Options: Options{GlobalClipnorm: 0.5, WeightDecay: 0.01}},
	Adam{Options: Options{Clipnorm: 0.5}},
)

func TestStepAllocatesNothing(t *testing.T) {
	sizes := []int{784 * 16, 16, 16 * 10, 10}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, o := range allocConfigs {
		u := mustBuild(t, o, sizes...)
		p := randTensors(rng, sizes, 1)
		g := randTensors(rng, sizes, 1)
		u.Step(p, g)
		if n := testing.AllocsPerRun(20, func() { u.Step(p, g) }); n != 0 {
			t.Errorf("%v: Step allocates %v times per call", o, n)
		}
	}
}

func TestStepPanicsOnMismatch(t *testing.T) {
	for _, o := range registered(Adam{Options: Options{WeightDecay: 0.1, Clipvalue: 0.5}}) {
		for _, c := range []struct {
			name   string
			params [][]float32
			grads  [][]float32
			want   string
		}{
			{"too few params", [][]float32{{1, 2}}, [][]float32{{1, 2}, {3}}, "len(params) = 1, len(grads) = 2, want 2"},
			{"too many grads", [][]float32{{1, 2}, {3}}, [][]float32{{1, 2}, {3}, {4}}, "len(params) = 2, len(grads) = 3, want 2"},
			{"short param", [][]float32{{1, 2}, {}}, [][]float32{{1, 2}, {3}}, "len(params[1]) = 0, len(grads[1]) = 1, want 1"},
			{"long grad", [][]float32{{1, 2}, {3}}, [][]float32{{1, 2, 9}, {3}}, "len(params[0]) = 2, len(grads[0]) = 3, want 2"},
		} {
			u := mustBuild(t, o, 2, 1)
			before, beforeG := clone(c.params), clone(c.grads)
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				u.Step(c.params, c.grads)
				return "no panic"
			}()
			want := "optim: " + o.Name() + ".Step: " + c.want
			if !strings.HasPrefix(msg, want) {
				t.Errorf("%s, %s: panic %q, want prefix %q", o.Name(), c.name, msg, want)
			}
			if !bitsEqual(c.params, before) || !bitsEqual(c.grads, beforeG) || u.Iterations() != 0 {
				t.Errorf("%s, %s: a panicking Step changed its arguments or the iteration count", o.Name(), c.name)
			}
		}
	}
}
