package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The tests in this file cover Zero, the explicit zero of a float64 field.

// isZeroBits reports whether x is +0 exactly, the value every resolved
// explicit zero must have.
func isZeroBits(x float64) bool { return math.Float64bits(x) == 0 }

// floatFields returns the names of the float64 fields of a configuration
// struct, the embedded Options excluded.
func floatFields(o any) []string {
	var names []string
	t := reflect.TypeOf(o)
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == reflect.Float64 && !f.Anonymous {
			names = append(names, f.Name)
		}
	}
	return names
}

// setField returns a copy of the configuration o with its field name set
// to x; name may be a field of the embedded Options.
func setField(o Optimizer, name string, x float64) Optimizer {
	v := reflect.New(reflect.TypeOf(o)).Elem()
	v.Set(reflect.ValueOf(o))
	v.FieldByName(name).SetFloat(x)
	return v.Interface().(Optimizer)
}

// TestZeroResolves: in every float field of every registered optimizer,
// Zero resolves to exactly 0 and changes no other field, and 0 still
// resolves to the default. The loop reads the registry, so a new optimizer
// is covered without an edit here.
func TestZeroResolves(t *testing.T) {
	for _, e := range registry {
		def := e.resolve(e.zero)
		fields := floatFields(e.zero)
		if len(fields) == 0 {
			t.Fatalf("%s: no float64 fields found", e.zero.Name())
		}
		for _, f := range fields {
			o := setField(e.zero, f, Zero)
			got := e.resolve(o)
			if x := reflect.ValueOf(got).FieldByName(f).Float(); !isZeroBits(x) {
				t.Errorf("%s{%s: Zero} resolves %s to %v (%#x), want exactly 0", e.zero.Name(), f, f, x, math.Float64bits(x))
			}
			// Every other field is resolved as without Zero.
			if want := setField(def, f, 0); !reflect.DeepEqual(got, want) {
				t.Errorf("%s{%s: Zero} resolves to %#v, want %#v", e.zero.Name(), f, got, want)
			}
			if _, err := o.Build([]int{3}); err != nil {
				t.Errorf("%s{%s: Zero}.Build: %v", e.zero.Name(), f, err)
			}
			// ByName's configuration holds no Zero: its fields stay unset.
			if b, err := ByName(e.name); err != nil || reflect.ValueOf(b).FieldByName(f).Float() != 0 {
				t.Errorf("ByName(%q) = %#v, %v; want %s unset", e.name, b, err, f)
			}
		}
	}
}

// TestZeroOptions: an option at Zero clips nothing, while WeightDecay at
// Zero runs the decay with 0, as Keras does with 0.0, which shows as an
// infinite weight turning into NaN. It steps every registered optimizer.
func TestZeroOptions(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, f := range floatFields(Options{}) {
		for _, e := range registry {
			o := setField(e.zero, f, Zero)
			theta := [][]float32{{inf, 1, -2}}
			// Gradients large enough that any clipping would show.
			g := [][]float32{{1e6, -3e6, 2e6}}
			before := clone(g)
			mustBuild(t, o, 3).Step(theta, g)
			if !bitsEqual(g, before) {
				t.Errorf("%v: gradients clipped to %v", o, g[0])
			}
			if decayed := math.IsNaN(float64(theta[0][0])); decayed != (f == "WeightDecay") {
				t.Errorf("%v: an infinite weight became %v", o, theta[0][0])
			}
		}
	}
}

func TestZeroString(t *testing.T) {
	for _, c := range []struct {
		opt  fmt.Stringer
		want string
	}{
		{SGD{LearningRate: Zero}, "SGD(learning_rate=0.0, momentum=0.0, nesterov=False)"},
		{SGD{Momentum: Zero}, "SGD(learning_rate=0.01, momentum=0.0, nesterov=False)"},
		{Adagrad{LearningRate: Zero, InitialAccumulatorValue: Zero, Epsilon: Zero},
			"Adagrad(learning_rate=0.0, initial_accumulator_value=0.0, epsilon=0.0)"},
		{RMSprop{LearningRate: Zero, Rho: Zero, Momentum: Zero, Epsilon: Zero},
			"RMSprop(learning_rate=0.0, rho=0.0, momentum=0.0, epsilon=0.0, centered=False)"},
		{Adam{LearningRate: Zero, Beta1: Zero, Beta2: Zero, Epsilon: Zero},
			"Adam(learning_rate=0.0, beta_1=0.0, beta_2=0.0, epsilon=0.0, amsgrad=False)"},
		// Options at Zero are given (0.0), unlike unset ones (None).
		{Adam{Options: Options{WeightDecay: Zero, Clipnorm: Zero, Clipvalue: Zero}},
			"Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False, " +
				"weight_decay=0.0, clipnorm=0.0, clipvalue=0.0)"},
		{SGD{Options: Options{GlobalClipnorm: Zero}}, "SGD(learning_rate=0.01, momentum=0.0, nesterov=False, global_clipnorm=0.0)"},
	} {
		if got := c.opt.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

// zeroStepCase is a configuration holding Zero, the same configuration
// with that field unset, and Keras's step with the field at 0, written out
// in float32 here. ref keeps its own slots and gets the 1-based step t.
type zeroStepCase struct {
	opt, unset Optimizer
	ref        func() func(theta, g []float32, t int)
}

// oneMinus is Keras's 1-x: float64 arithmetic (x is a variable, not a
// constant Go would compute exactly), then rounded to float32.
func oneMinus(x float64) float32 { return float32(1 - x) }

// Keras's float32 constants for the defaults.
var (
	lr001, eps7            = float32(0.001), float32(1e-7)
	rho9, oneMinusRho9     = float32(0.9), oneMinus(0.9)
	beta9, beta999         = float32(0.9), float32(0.999)
	oneMinus9, oneMinus999 = oneMinus(0.9), oneMinus(0.999)
)

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// adagradRef is Keras's Adagrad step with the given float32 arguments.
func adagradRef(lr, init, eps float32) func() func(theta, g []float32, t int) {
	return func() func(theta, g []float32, t int) {
		var acc []float32
		return func(theta, g []float32, _ int) {
			if acc == nil {
				acc = make([]float32, len(theta))
				for j := range acc {
					acc[j] = init
				}
			}
			for j := range theta {
				acc[j] = acc[j] + float32(g[j]*g[j])
				theta[j] = theta[j] - float32(lr*g[j])/sqrt32(acc[j]+eps)
			}
		}
	}
}

// rmspropRef is Keras's RMSprop step without momentum.
func rmspropRef(lr, rho, omr, eps float32, centered bool) func() func(theta, g []float32, t int) {
	return func() func(theta, g []float32, t int) {
		var v, mg []float32
		return func(theta, g []float32, _ int) {
			if v == nil {
				v, mg = make([]float32, len(theta)), make([]float32, len(theta))
			}
			for j := range theta {
				v[j] = float32(rho*v[j]) + float32(omr*float32(g[j]*g[j]))
				d := v[j] + eps
				if centered {
					mg[j] = float32(rho*mg[j]) + float32(omr*g[j])
					d = v[j] - float32(mg[j]*mg[j]) + eps
				}
				theta[j] = theta[j] - float32(float32(lr*g[j])*(1/sqrt32(d)))
			}
		}
	}
}

// adamRef is Keras's Adam step, the powers taken exactly (f32pow).
func adamRef(lr, b1, b2, omb1, omb2, eps float32) func() func(theta, g []float32, t int) {
	return func() func(theta, g []float32, t int) {
		var m, v []float32
		return func(theta, g []float32, t int) {
			if m == nil {
				m, v = make([]float32, len(theta)), make([]float32, len(theta))
			}
			alpha := float32(lr*f32sqrt(1-f32pow(b2, int64(t)))) / (1 - f32pow(b1, int64(t)))
			for j := range theta {
				m[j] = m[j] + float32((g[j]-m[j])*omb1)
				v[j] = v[j] + float32((float32(g[j]*g[j])-v[j])*omb2)
				theta[j] = theta[j] - float32(m[j]*alpha)/(sqrt32(v[j])+eps)
			}
		}
	}
}

// frozen is the step of any optimizer at learning rate 0: nothing moves
// (Keras's formulas scale every move by η).
func frozen() func(theta, g []float32, t int) { return func([]float32, []float32, int) {} }

var zeroStepCases = []zeroStepCase{
	{SGD{LearningRate: Zero}, SGD{}, frozen},
	{SGD{LearningRate: Zero, Momentum: 0.9, Nesterov: true}, SGD{Momentum: 0.9, Nesterov: true}, frozen},
	{Adagrad{LearningRate: Zero}, Adagrad{}, frozen},
	{Adagrad{InitialAccumulatorValue: Zero}, Adagrad{}, adagradRef(lr001, 0, eps7)},
	// ε is small against an accumulator of at least 0.1: a large rate
	// makes its absence show in θ.
	{Adagrad{LearningRate: 0.5, Epsilon: Zero}, Adagrad{LearningRate: 0.5}, adagradRef(0.5, float32(0.1), 0)},
	{Adagrad{InitialAccumulatorValue: Zero, Epsilon: Zero}, Adagrad{}, adagradRef(lr001, 0, 0)},
	{RMSprop{LearningRate: Zero}, RMSprop{}, frozen},
	{RMSprop{Rho: Zero}, RMSprop{}, rmspropRef(lr001, 0, 1, eps7, false)},
	{RMSprop{Rho: Zero, Centered: true}, RMSprop{Centered: true}, rmspropRef(lr001, 0, 1, eps7, true)},
	{RMSprop{Epsilon: Zero}, RMSprop{}, rmspropRef(lr001, rho9, oneMinusRho9, 0, false)},
	{RMSprop{Rho: Zero, Centered: true, Epsilon: 0.25}, RMSprop{Centered: true, Epsilon: 0.25}, rmspropRef(lr001, 0, 1, 0.25, true)},
	{RMSprop{Rho: Zero, Epsilon: Zero}, RMSprop{}, rmspropRef(lr001, 0, 1, 0, false)},
	{Adam{LearningRate: Zero}, Adam{}, frozen},
	{Adam{Beta1: Zero}, Adam{}, adamRef(lr001, 0, beta999, 1, oneMinus999, eps7)},
	{Adam{Beta2: Zero}, Adam{}, adamRef(lr001, beta9, 0, oneMinus9, 1, eps7)},
	{Adam{Epsilon: Zero}, Adam{}, adamRef(lr001, beta9, beta999, oneMinus9, oneMinus999, 0)},
	{Adam{Beta1: Zero, Beta2: Zero, Epsilon: Zero}, Adam{}, adamRef(lr001, 0, 0, 1, 1, 0)},
}

// zeroTheta and zeroGrads are the test's parameters and three steps of
// gradients; none is zero, so that ε = 0 never divides 0 by 0.
var (
	zeroTheta = []float32{1, -2, 0.5, 4, -0.3}
	zeroGrads = [][]float32{
		{0.5, -0.25, 3, -1.5, 0.1},
		{-0.125, 2, 0.75, 1, -0.7},
		{1, 1, -2, 0.0625, 0.3},
	}
)

// stepAll runs the three steps of zeroGrads with o, returning θ after each.
func stepAll(t *testing.T, o Optimizer) [][]float32 {
	t.Helper()
	u := mustBuild(t, o, len(zeroTheta))
	theta := clone([][]float32{zeroTheta})
	var out [][]float32
	for _, g := range zeroGrads {
		u.Step(theta, clone([][]float32{g}))
		out = append(out, clone(theta)[0])
	}
	return out
}

// TestZeroSteps: each configuration with a Zero field steps exactly as
// Keras's formula with that argument at 0, and unlike the default.
func TestZeroSteps(t *testing.T) {
	for _, c := range zeroStepCases {
		name := fmt.Sprint(c.opt)
		got := stepAll(t, c.opt)
		ref := c.ref()
		theta := clone([][]float32{zeroTheta})[0]
		for i, g := range zeroGrads {
			ref(theta, g, i+1)
			if !bitsEqual([][]float32{got[i]}, [][]float32{theta}) {
				t.Errorf("%s step %d: θ = %v, Keras's formula with 0 gives %v", name, i+1, got[i], theta)
			}
		}
		if unset := stepAll(t, c.unset); bitsEqual(got, unset) {
			t.Errorf("%s steps as %v does", name, c.unset)
		}
	}
}

// TestZeroStepsShapes checks the shapes the formulas take with 0, on top of
// TestZeroSteps: ρ = 0 makes RMSprop's v the last g², and ε = 0 with
// accumulator 0 makes Adagrad's first step η·sign(g).
func TestZeroStepsShapes(t *testing.T) {
	u := mustBuild(t, RMSprop{Rho: Zero}, len(zeroTheta)).(*rmspropUpdater)
	theta := clone([][]float32{zeroTheta})
	for _, g := range zeroGrads {
		u.Step(theta, clone([][]float32{g}))
		for j, x := range g {
			if u.v[0][j] != x*x {
				t.Errorf("RMSprop{Rho: Zero}: v[%d] = %v, want g² = %v", j, u.v[0][j], x*x)
			}
		}
	}
	got := stepAll(t, Adagrad{LearningRate: 0.5, InitialAccumulatorValue: Zero, Epsilon: Zero})[0]
	for j, x := range zeroTheta {
		if want := x - float32(math.Copysign(0.5, float64(zeroGrads[0][j]))); got[j] != want {
			t.Errorf("Adagrad with ε and accumulator Zero: θ[%d] = %v, want %v", j, got[j], want)
		}
	}
}

// TestZeroSameAsUnset: where the default is 0 already, Zero changes
// nothing, slots included.
func TestZeroSameAsUnset(t *testing.T) {
	for _, c := range []struct{ zero, unset Optimizer }{
		{SGD{Momentum: Zero}, SGD{}},
		{SGD{Momentum: Zero, Nesterov: true}, SGD{Nesterov: true}},
		{RMSprop{Momentum: Zero}, RMSprop{}},
		{RMSprop{Momentum: Zero, Centered: true}, RMSprop{Centered: true}},
		{Adam{Options: Options{Clipnorm: Zero}}, Adam{}},
		{Adam{Options: Options{GlobalClipnorm: Zero}}, Adam{}},
		{Adam{Options: Options{Clipvalue: Zero}}, Adam{}},
		// A clipnorm of 0 leaves clipvalue its turn, as in Keras.
		{SGD{Options: Options{Clipnorm: Zero, Clipvalue: 0.5}}, SGD{Options: Options{Clipvalue: 0.5}}},
		{SGD{Options: Options{GlobalClipnorm: Zero, Clipvalue: 0.5}}, SGD{Options: Options{Clipvalue: 0.5}}},
	} {
		if a, b := run(t, c.zero, 4), run(t, c.unset, 4); !bitsEqual(a, b) {
			t.Errorf("%v and %v differ after 4 steps", c.zero, c.unset)
		}
		a, b := slotsOf(mustBuild(t, c.zero, 2)), slotsOf(mustBuild(t, c.unset, 2))
		for i := range a {
			if used(a[i]) != used(b[i]) {
				t.Errorf("%v: slot %d in use %v, for %v %v", c.zero, i, used(a[i]), c.unset, used(b[i]))
			}
		}
	}
}

// TestZeroWeightDecay: weight decay at Zero runs, as Keras's at 0.0 does:
// θ - (θ·0)·η leaves finite weights alone but turns ±Inf into NaN, where
// no weight decay at all keeps them.
func TestZeroWeightDecay(t *testing.T) {
	inf := float32(math.Inf(1))
	theta := []float32{1.5, inf, -inf, -2}
	g := []float32{0.25, 0, 0, -1}
	const lr = 0.5
	var wd, m, mu float32 // all 0: the decay, SGD's slot and its momentum
	want := make([]float32, len(theta))
	for j, x := range theta {
		x = x - float32(float32(x*wd)*lr)
		want[j] = x + (float32(-g[j]*lr) + float32(m*mu))
	}
	same := func(a, b []float32) bool {
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) && !(a[j] != a[j] && b[j] != b[j]) {
				return false
			}
		}
		return true
	}
	step := func(o Options) []float32 {
		p := [][]float32{append([]float32(nil), theta...)}
		mustBuild(t, SGD{LearningRate: lr, Options: o}, len(theta)).Step(p, [][]float32{append([]float32(nil), g...)})
		return p[0]
	}
	got := step(Options{WeightDecay: Zero})
	if !same(got, want) || !math.IsNaN(float64(got[1])) || !math.IsNaN(float64(got[2])) {
		t.Errorf("weight decay Zero: θ = %v, want %v", got, want)
	}
	if plain := step(Options{}); !math.IsInf(float64(plain[1]), 1) || plain[0] != got[0] || plain[3] != got[3] {
		t.Errorf("no weight decay: θ = %v, want the infinities kept and the rest as with Zero %v", plain, got)
	}
}

// TestZeroClipConflict: Keras refuses clipnorm and global_clipnorm given
// together, even as 0.0.
func TestZeroClipConflict(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Clipnorm: Zero, GlobalClipnorm: 1}, "Clipnorm = 0 and GlobalClipnorm = 1"},
		{Options{Clipnorm: 2, GlobalClipnorm: Zero}, "Clipnorm = 2 and GlobalClipnorm = 0"},
		{Options{Clipnorm: Zero, GlobalClipnorm: Zero}, "Clipnorm = 0 and GlobalClipnorm = 0"},
	} {
		if _, err := (Adam{Options: c.o}).Build(nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Build error %v, want one containing %q", c.o, err, c.want)
		}
	}
}

// TestZeroLearningRate: WithLearningRate reads its rate as the fields do.
func TestZeroLearningRate(t *testing.T) {
	for _, e := range registry {
		o, err := WithLearningRate(e.zero, Zero)
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(o); !strings.Contains(s, "(learning_rate=0.0,") {
			t.Errorf("WithLearningRate(%s, Zero) = %s", e.zero.Name(), s)
		}
		for i, th := range stepAll(t, o) {
			if !bitsEqual([][]float32{th}, [][]float32{zeroTheta}) {
				t.Errorf("%v step %d: θ = %v, want it unchanged", o, i+1, th)
			}
		}
		if o, _ := WithLearningRate(e.zero, 0); o != e.zero {
			t.Errorf("WithLearningRate(%s, 0) = %#v, want the default %#v", e.zero.Name(), o, e.zero)
		}
	}
}

// TestZeroConfig: MarshalConfig keeps an explicit zero apart from 0 (the
// default), so the configuration and its steps come back bit for bit, and
// configurations written before Zero existed load as they did.
func TestZeroConfig(t *testing.T) {
	for _, o := range []Optimizer{
		SGD{LearningRate: Zero, Momentum: Zero, Options: Options{WeightDecay: Zero, Clipnorm: Zero}},
		Adagrad{LearningRate: 0.1, InitialAccumulatorValue: Zero, Epsilon: Zero, Options: Options{Clipvalue: Zero}},
		RMSprop{Rho: Zero, Momentum: Zero, Epsilon: Zero, Options: Options{GlobalClipnorm: Zero}},
		Adam{Beta1: Zero, Beta2: Zero, Amsgrad: true, Options: Options{WeightDecay: Zero}},
	} {
		class, cfg, err := MarshalConfig(o)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(cfg), ":5e-324") {
			t.Errorf("%v: configuration %s does not hold Zero as 5e-324", o, cfg)
		}
		back, err := UnmarshalConfig(class, cfg)
		if err != nil || !reflect.DeepEqual(back, o) {
			t.Errorf("UnmarshalConfig(%s) = %#v, %v; want %#v", cfg, back, err, o)
			continue
		}
		if a, b := run(t, o, 5), run(t, back, 5); !bitsEqual(a, b) {
			t.Errorf("%v: 5 steps after a round trip through %s differ", o, cfg)
		}
		if fmt.Sprint(back) != fmt.Sprint(o) {
			t.Errorf("round trip: %v, want %v", back, o)
		}
	}

	// What MarshalConfig has always written for RMSprop{} (0 for unset),
	// and the shorter forms: all give Keras's defaults, not zeros.
	for _, cfg := range []string{
		`{"LearningRate":0,"Rho":0,"Momentum":0,"Epsilon":0,"Centered":false,"WeightDecay":0,"Clipnorm":0,"Clipvalue":0,"GlobalClipnorm":0}`,
		`{"Rho":0}`,
		`{}`,
	} {
		o, err := UnmarshalConfig("RMSprop", []byte(cfg))
		if err != nil || o != (RMSprop{}) {
			t.Errorf("UnmarshalConfig(%s) = %#v, %v; want RMSprop{}", cfg, o, err)
		}
	}
	if _, cfg, _ := MarshalConfig(RMSprop{}); !strings.Contains(string(cfg), `"Rho":0,`) {
		t.Errorf("RMSprop{} marshals to %s, which files written before no longer match", cfg)
	}
	// An explicit zero written by hand, and the tiny rate the package
	// once recommended for a zero rate, which stays what it was.
	for _, c := range []struct {
		cfg  string
		want Optimizer
	}{
		{`{"Rho":5e-324}`, RMSprop{Rho: Zero}},
		{`{"Rho":4.9406564584124654e-324}`, RMSprop{Rho: Zero}},
		{`{"LearningRate":1e-50}`, RMSprop{LearningRate: 1e-50}},
	} {
		o, err := UnmarshalConfig("RMSprop", []byte(c.cfg))
		if err != nil || o != c.want {
			t.Errorf("UnmarshalConfig(%s) = %#v, %v; want %#v", c.cfg, o, err, c.want)
		}
	}
	var x float64
	if err := json.Unmarshal([]byte("5e-324"), &x); err != nil || x != Zero {
		t.Errorf("encoding/json reads 5e-324 as %v, %v; want Zero", x, err)
	}
}
