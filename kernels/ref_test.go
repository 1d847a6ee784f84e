package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
)

// This file tests the scalar functions of the reference (exp32,
// sigmoid32, tanh32) against float64 math, and holds the helpers the other
// kernel tests share: ulp distances, float64 references, guard-celled
// buffers, the per-level loop, and op-by-op float32 arithmetic.

// The accuracy bounds the package documents, in ulps of the correctly
// rounded float32 result. Every level must meet them.
//
// The scalar bounds are checked for every float32 input by
// TestScalarExhaustive (the last run: exp 1, sigmoid 2, tanh 1). The
// softmax bound follows from expFrac, the exhaustively checked error of
// exp32 in ulps of the exact value: below one ulp, so each exponential and
// hence their (float64) sum is within relative 2⁻²³, their quotient within
// 2⁻²², which is under 4 ulp of the result (an ulp is at least 2⁻²⁴ of the
// value); the final rounding adds 1/2 and the exact value is 1/2 from its
// correctly rounded neighbour, so the distance is under 5 steps, at most 4.
// The same argument bounds the fused cross-entropy's probs and grad; its
// loss is log(sum) − d with relative error of the sum below 2⁻²³ and the
// loss at least ln 2 unless the label is the row maximum, where the loss
// log1p(other) inherits the relative error of other: below 2⁻²² either way.
// Random and fuzzed rows have shown at most 2 ulp.
const (
	expUlp     = 1
	expFrac    = 1.0
	sigmoidUlp = 2
	tanhUlp    = 1
	softmaxUlp = 4
)

// ordered maps a float32 onto an integer line on which neighbouring floats
// are neighbouring integers and −0 equals +0.
func ordered(f float32) int64 {
	i := int64(int32(math.Float32bits(f)))
	if i < 0 {
		i = math.MinInt32 - i
	}
	return i
}

// ulpDist is the number of float32 steps between a and b; two NaNs are 0
// apart, a NaN and a number infinitely far.
func ulpDist(a, b float32) int64 {
	an, bn := a != a, b != b
	if an || bn {
		if an && bn {
			return 0
		}
		return math.MaxInt64
	}
	d := ordered(a) - ordered(b)
	if d < 0 {
		d = -d
	}
	return d
}

// withinUlp reports whether got is within maxUlp float32 steps of the
// correctly rounded want. Where the exact value is below the smallest
// normal float32 the kernels may flush, so there the test is absolute:
// |got − want| ≤ 2⁻¹²⁶.
func withinUlp(got float32, want float64, maxUlp int64) bool {
	if math.IsNaN(want) {
		return got != got
	}
	if math.Abs(want) < minNormal32 {
		return math.Abs(float64(got)-want) <= minNormal32
	}
	return ulpDist(got, float32(want)) <= maxUlp
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// forEachLevel runs f once per available kernel level, with that level
// active.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, level := range Available() {
		t.Run(level, func(t *testing.T) {
			restore, err := Use(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

// mustPanic returns the panic message of f, or "" if it returned.
func mustPanic(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// guardN cells of guardBits sit on both sides of every output under test.
// The payload makes them distinguishable from any NaN a kernel computes.
const (
	guardN    = 5
	guardBits = 0x7fc0dead
)

// guarded returns a buffer of n cells between guards, and the n cells; the
// slice's capacity ends at n so that append or reslicing cannot reach the
// guard either.
func guarded(n int) (buf, s []float32) {
	buf = make([]float32, n+2*guardN)
	g := math.Float32frombits(guardBits)
	for i := range buf {
		buf[i] = g
	}
	return buf, buf[guardN : guardN+n : guardN+n]
}

// checkGuards fails t if a guard cell of buf changed.
func checkGuards(t *testing.T, what string, buf []float32) {
	t.Helper()
	n := len(buf) - 2*guardN
	for i, v := range buf {
		if i >= guardN && i < guardN+n {
			continue
		}
		if math.Float32bits(v) != guardBits {
			t.Fatalf("%s: guard cell %d (relative to the output) overwritten with %v", what, i-guardN, v)
		}
	}
}

// firstDiff returns the first index where a and b differ in bits, or -1.
func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// The ops of TF's float32 graph, one rounding each. The explicit
// conversion in f32mul keeps a product rounded where a compiler that fuses
// (arm64) would otherwise turn mul-then-add into one FMA.
func f32add(a, b float32) float32 { return a + b }
func f32sub(a, b float32) float32 { return a - b }
func f32mul(a, b float32) float32 { return float32(a * b) }
func f32div(a, b float32) float32 { return a / b }
func f32sqrt(a float32) float32   { return float32(math.Sqrt(float64(a))) }

// specials are the inputs every elementwise and row test mixes in.
var specials = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	88, -88, 89, -89, 88.72283, 88.72284, -87.33654, -87.33655, -103.97, -104,
	1e-40, -1e-40, 1e-30, -1e-30, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32,
	tanhSmall, -tanhSmall, math.Nextafter32(tanhSmall, 0), -math.Nextafter32(tanhSmall, 0),
	0.5, -0.5, 1, -1, 9, -9, 17, -17, 44.4, -44.4,
}

// randInput returns n values: mostly normal with standard deviation sd,
// about one in eight taken from specials when withSpecials is set.
func randInput(r *rand.Rand, n int, sd float64, withSpecials bool) []float32 {
	s := make([]float32, n)
	for i := range s {
		if withSpecials && r.IntN(8) == 0 {
			s[i] = specials[r.IntN(len(specials))]
		} else {
			s[i] = float32(r.NormFloat64() * sd)
		}
	}
	return s
}

// scalarFn is one of the reference's scalar functions with its float64
// reference and documented bound: ulp in float32 steps from the correctly
// rounded result, and, where frac > 0, an error below frac ulps of the
// exact result.
type scalarFn struct {
	name string
	f    func(float32) float32
	ref  func(float64) float64
	ulp  int64
	frac float64
}

var scalarFns = []scalarFn{
	{"exp32", exp32, math.Exp, expUlp, expFrac},
	{"sigmoid32", sigmoid32, sigmoid64, sigmoidUlp, 0},
	{"tanh32", tanh32, math.Tanh, tanhUlp, 0},
}

// fracUlp is |got − want| in ulps of the float32 binade of want (which
// must be normal and finite as a float32).
func fracUlp(got float32, want float64) float64 {
	_, e := math.Frexp(math.Abs(want))
	return math.Abs(float64(got)-want) / math.Ldexp(1, e-24)
}

// sweepScalar checks f on every step-th float32 from lo to hi (on the
// ordered integer line, so every binade is visited) and returns the worst
// ulp distance seen where the result is normal, failing on any input out
// of bound. It also returns the worst error in ulps of the exact value. It
// splits the range over the CPUs.
func sweepScalar(t *testing.T, fn scalarFn, lo, hi float32, step int64) (int64, float64) {
	t.Helper()
	a, b := ordered(lo), ordered(hi)
	workers := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var worst int64
	var worstFrac float64
	var bad []string
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mx int64
			var mf float64
			var errs []string
			for i := a + int64(w)*step; i <= b; i += int64(workers) * step {
				var x float32
				if i < 0 {
					x = math.Float32frombits(uint32(int32(math.MinInt32 - i)))
				} else {
					x = math.Float32frombits(uint32(i))
				}
				got := fn.f(x)
				want := fn.ref(float64(x))
				if !withinUlp(got, want, fn.ulp) {
					if len(errs) < 5 {
						errs = append(errs, fmt.Sprintf("%s(%v) = %v, want %v (%d ulp)", fn.name, x, got, want, ulpDist(got, float32(want))))
					}
					continue
				}
				if math.Abs(want) >= minNormal32 && math.Abs(want) <= math.MaxFloat32 {
					mx = max(mx, ulpDist(got, float32(want)))
					f := fracUlp(got, want)
					if fn.frac > 0 && !(f < fn.frac) && len(errs) < 5 {
						errs = append(errs, fmt.Sprintf("%s(%v) = %v, want %v (%.3f ulp of the exact value)", fn.name, x, got, want, f))
					}
					mf = max(mf, f)
				}
			}
			mu.Lock()
			worst = max(worst, mx)
			worstFrac = max(worstFrac, mf)
			bad = append(bad, errs...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	for _, e := range bad {
		t.Error(e)
	}
	return worst, worstFrac
}

// TestScalarSweep visits about four million float32 inputs per function,
// spread over every binade of the range where the result is neither 0, 1
// nor overflowing, and requires the documented bound everywhere.
func TestScalarSweep(t *testing.T) {
	ranges := map[string][2]float32{
		"exp32":     {-104, 89},
		"sigmoid32": {-104, 20},
		"tanh32":    {-10, 10},
	}
	for _, fn := range scalarFns {
		rg := ranges[fn.name]
		step := (ordered(rg[1]) - ordered(rg[0])) / (4 << 20)
		worst, frac := sweepScalar(t, fn, rg[0], rg[1], step|1)
		t.Logf("%s: worst %d ulp (%.3f ulp of the exact value) over [%v, %v] step %d", fn.name, worst, frac, rg[0], rg[1], step|1)
	}
}

// TestScalarExhaustive checks every float32 input; it takes about a
// minute per function on two cores, so it runs only when
// SIMDMLP_EXHAUSTIVE=1. It is what the documented bounds rest on.
func TestScalarExhaustive(t *testing.T) {
	if os.Getenv("SIMDMLP_EXHAUSTIVE") != "1" {
		t.Skip("set SIMDMLP_EXHAUSTIVE=1 to check every float32 input")
	}
	for _, fn := range scalarFns {
		worst, frac := sweepScalar(t, fn, float32(math.Inf(-1)), float32(math.Inf(1)), 1)
		t.Logf("%s: worst %d ulp (%.3f ulp of the exact value) over all float32 inputs", fn.name, worst, frac)
	}
}

// TestScalarRandom adds inputs from the distributions the trainer sees.
func TestScalarRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, fn := range scalarFns {
		for _, sd := range []float64{0.1, 1, 5, 30} {
			for range 200000 {
				x := float32(r.NormFloat64() * sd)
				if got, want := fn.f(x), fn.ref(float64(x)); !withinUlp(got, want, fn.ulp) {
					t.Fatalf("%s(%v) = %v, want %v", fn.name, x, got, want)
				}
			}
		}
	}
}

func TestScalarSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		name string
		f    func(float32) float32
		x    float32
		want float32
	}{
		{"exp32", exp32, 0, 1},
		{"exp32", exp32, negZero, 1},
		{"exp32", exp32, inf, inf},
		{"exp32", exp32, -inf, 0},
		{"exp32", exp32, 1e30, inf},
		{"exp32", exp32, -1e30, 0},
		{"exp32", exp32, nan, nan},
		// The overflow threshold: ln(MaxFloat32) = 88.7228391…, between
		// these two neighbours.
		{"exp32", exp32, 88.72283935546875, inf},
		// Flush to zero: e^-87.3365 is just above 2⁻¹²⁶, e^-87.3366 below.
		{"exp32", exp32, -87.3366, 0},
		{"exp32", exp32, -100, 0},
		{"sigmoid32", sigmoid32, 0, 0.5},
		{"sigmoid32", sigmoid32, inf, 1},
		{"sigmoid32", sigmoid32, -inf, 0},
		{"sigmoid32", sigmoid32, 1e30, 1},
		{"sigmoid32", sigmoid32, -1e30, 0},
		{"sigmoid32", sigmoid32, nan, nan},
		{"tanh32", tanh32, 0, 0},
		{"tanh32", tanh32, negZero, negZero},
		{"tanh32", tanh32, inf, 1},
		{"tanh32", tanh32, -inf, -1},
		{"tanh32", tanh32, 1e30, 1},
		{"tanh32", tanh32, -1e30, -1},
		{"tanh32", tanh32, 1e-30, 1e-30},
		{"tanh32", tanh32, -1e-40, -1e-40},
		{"tanh32", tanh32, nan, nan},
	}
	for _, c := range cases {
		got := c.f(c.x)
		if math.Float32bits(got) != math.Float32bits(c.want) && !(got != got && c.want != c.want) {
			t.Errorf("%s(%v) = %v (%#x), want %v (%#x)", c.name, c.x, got, math.Float32bits(got), c.want, math.Float32bits(c.want))
		}
	}
	if got := exp32(88.72283172607422); !withinUlp(got, math.Exp(88.72283172607422), expUlp) || math.IsInf(float64(got), 0) {
		t.Errorf("exp32(88.72283172607422) = %v, want %v", got, math.Exp(88.72283172607422))
	}
	if got := exp32(-87.3365); got < minNormal32 {
		t.Errorf("exp32(-87.3365) = %v, want the normal %v", got, math.Exp(-87.3365))
	}
	// The flush boundary is exact: every input near it gives 0 exactly when
	// e^x is below 2⁻¹²⁶, so the float64 references can flush the same way.
	for x := float32(-87.3); x > -87.4; x = math.Nextafter32(x, -100) {
		if e, got := math.Exp(float64(x)), exp32(x); (e >= minNormal32) != (got >= minNormal32) || (got < minNormal32 && got != 0) {
			t.Fatalf("exp32(%v) = %v, e^x = %v: flushed on the wrong side of 2⁻¹²⁶", x, got, e)
		}
	}
	for x := float32(-87.34); x > -104; x -= 0.01 {
		if got := exp32(x); got != 0 {
			t.Fatalf("exp32(%v) = %v, want 0 (flushed)", x, got)
		}
	}
}

// TestScalarSymmetry: tanh32 is odd bit for bit, since both of its forms
// work on |x| or on even powers and only the sign is copied.
func TestScalarSymmetry(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for range 100000 {
		x := float32(r.NormFloat64() * 10)
		if a, b := tanh32(x), tanh32(-x); a != -b {
			t.Fatalf("tanh32(%v) = %v but tanh32(%v) = %v", x, a, -x, b)
		}
	}
}

// firstDiffNaN is firstDiff with any two NaNs equal: NaN payloads are not
// specified across levels.
func firstDiffNaN(a, b []float32) int {
	for i := range a {
		if !sameBitsOrNaN(a[i], b[i]) {
			return i
		}
	}
	return -1
}

// checkNearGeneric requires got within 1 ulp of the generic level's want:
// the levels differ only in the order of a float64 sum, which moves the
// final float32 rounding by at most one step.
func checkNearGeneric(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		if ulpDist(got[i], want[i]) > 1 {
			t.Fatalf("%s: [%d] = %v, generic %v", what, i, got[i], want[i])
		}
	}
}
