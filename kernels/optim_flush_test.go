package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Tests of the rule that the optimizers store a decaying slot whose
// magnitude is below 2⁻⁹⁵ as +0 (flushSlot, SGDParams): the rule itself,
// its edges on every level, and its effect over a long decay.

// isFlushable reports whether a stored slot value breaks the rule: −0 or
// a magnitude below 2⁻⁹⁵ (+0 is what the rule stores).
func isFlushable(x float32) bool {
	b := math.Float32bits(x)
	return b != 0 && b&0x7fffffff < 0x10000000
}

// TestFlushSlotRule compares flushSlot with slotFlush, the rule written
// from its statement in kernels_test.go, on every float32 of the two
// smallest binades, of the two around 2⁻⁹⁵ and of the largest, of both
// signs, and on others across the range.
func TestFlushSlotRule(t *testing.T) {
	check := func(b uint32) {
		x := math.Float32frombits(b)
		got, want := flushSlot(x), slotFlush(x)
		if !sameBitsOrNaN(got, want) || x != x && math.Float32bits(got) != b {
			t.Fatalf("flushSlot(%v, %#08x) = %v (%#08x), want %v (%#08x)", x, b, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for _, sign := range []uint32{0, 1 << 31} {
		for _, exp := range []uint32{0, 1, 31, 32, 0xfe, 0xff} {
			for mant := uint32(0); mant < 1<<23; mant++ {
				check(sign | exp<<23 | mant)
			}
		}
		for b := uint32(0); b < 1<<31; b += 9973 {
			check(sign | b)
		}
	}
	// The edges by name.
	for _, c := range []struct{ x, want float32 }{
		{0, 0}, {float32(math.Copysign(0, -1)), 0},
		{0x1p-149, 0}, {-0x1p-149, 0}, {0x1.fffffcp-127, 0}, {-0x1.fffffcp-127, 0},
		{0x1p-126, 0}, {-0x1p-126, 0}, {0x1.fffffep-96, 0}, {-0x1.fffffep-96, 0},
		{0x1p-95, 0x1p-95}, {-0x1p-95, -0x1p-95}, {0x1.000002p-95, 0x1.000002p-95},
		{float32(math.Inf(-1)), float32(math.Inf(-1))}, {1, 1},
	} {
		if got := flushSlot(c.x); math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("flushSlot(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

// flushEdges are slot values at the rule's edges: zeros, the subnormal
// extremes, ±2⁻¹²⁶, ±2⁻⁹⁵ and their neighbours, and what must pass
// unchanged.
var flushEdges = []float32{
	0, float32(math.Copysign(0, -1)), 0x1p-149, -0x1p-149, 0x1.fffffcp-127, -0x1.fffffcp-127,
	0x1p-126, -0x1p-126, 0x1.000002p-126, -0x1.000002p-126, 1e-40, -1e-40,
	0x1.fffffep-96, -0x1.fffffep-96, 0x1p-95, -0x1p-95, 0x1.000002p-95, -0x1.000002p-95,
	float32(math.NaN()), math.Float32frombits(0xffc00001), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -0.5,
}

// flushHypers are step scalars under which the slots keep, or nearly
// keep, their values, so that the edge values land at the edges after the
// update: decay factors of 1 (μ = ρ = 1, 1−β = 0), zero and tiny rates,
// and Keras's defaults, under which 2⁻⁹⁵/β lands next to 2⁻⁹⁵.
var flushHypers = []optHyper{
	{0.001, 1, 1e-7, 0, 1},
	{1, 1, 0, 0, 1}, // SGD without momentum: m = −g
	{0, 1, 1e-7, 0, 1},
	{1e-3, 1, 1e-7, 0, 0x1p-30}, // Adam's v and RMSprop's mom: (g²−v)·2⁻³⁰ is below v's half ulp
	{1e-30, 0.9, 1e-7, 0.1, 0.9},
	{0.001, 0.9, 1e-7, 0.1, 0.999},
	{0.001, 0.9, 1e-7, 0.1, 0.001},
}

// TestOptimSlotFlushEdges steps every variant on every level from slots at
// the rule's edges (each slot and g cycling through flushEdges and values
// a decay of 0.9, 0.999 or 0.1 takes across 2⁻⁹⁵), with gradients of
// zero, tiny and normal size: the same bits as the reference, and no
// flushed slot left at −0 or below 2⁻⁹⁵. It also checks that the inputs
// reach the rule: some slot lane must be flushed to +0 from a nonzero
// value, and some kept at exactly ±2⁻⁹⁵.
func TestOptimSlotFlushEdges(t *testing.T) {
	tiny := func(x float32, by float64) float32 { return float32(float64(x) / by) }
	var vals []float32
	vals = append(vals, flushEdges...)
	for _, by := range []float64{0.9, 0.999, 0.1} {
		// Values one decay step above the edges, and their neighbours.
		for _, e := range []float32{0x1p-95, 0x1.000002p-95, 0x1.fffffep-96} {
			x := tiny(e, by)
			vals = append(vals, x, -x, math.Nextafter32(x, 0), math.Nextafter32(x, 1))
		}
	}
	grads := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-40, 0x1p-126, 0x1p-95, 1e-20, -0.25}
	k := len(vals)
	forEachLevel(t, func(t *testing.T) {
		for _, vr := range optVariants {
			flushedFrom, keptEdge := 0, 0
			n := k * k * len(grads)
			for _, h := range flushHypers {
				in, got := runOptVariant(t, vr, n, h, func(j int, v []float32) {
					for i := range v {
						switch j {
						case len(vr.pos) - 1:
							v[i] = grads[i%len(grads)]
						case 0:
							v[i] = 1
						default:
							// Every slot meets every value with every g: the
							// first slot runs through vals with i/|grads|, the
							// second with i/(|grads|·k), the third along the
							// diagonal of the two.
							a, b := i/len(grads)%k, i/len(grads)/k%k
							idx := [3]int{a, b, (a + b) % k}
							v[i] = vals[idx[j-1]]
						}
					}
				})
				for j, fl := range vr.flushed {
					if !fl {
						continue
					}
					for i, x := range got[j] {
						if isFlushable(x) {
							t.Fatalf("%s %+v: slot %d [%d] = %v (%#08x) after the step (was %v, g %v)",
								vr.name, h, j, i, x, math.Float32bits(x), in[j][i], in[len(in)-1][i])
						}
						if math.Float32bits(x) == 0 && in[j][i] != 0 {
							flushedFrom++
						}
						if x == 0x1p-95 || x == -0x1p-95 {
							keptEdge++
						}
					}
				}
			}
			if hasFlushed(vr) && (flushedFrom == 0 || keptEdge == 0) {
				t.Fatalf("%s: %d lanes flushed to +0 from nonzero slots and %d kept at ±2⁻⁹⁵: the inputs miss the rule's edges",
					vr.name, flushedFrom, keptEdge)
			}
		}
	})
}

// hasFlushed reports whether vr flushes some slot.
func hasFlushed(vr optVariant) bool {
	for _, f := range vr.flushed {
		if f {
			return true
		}
	}
	return false
}

// slotDecay is the factor by which slot j of vr shrinks in a step with a
// zero gradient under TestOptimSlotDecayToZero's scalars: μ, ρ and β1 are
// 0.9, β2 is 0.999 (Adam's v), SGD without momentum keeps no state
// (m = −η·g), and AMSGrad's v̂, the running maximum of v, stays (1).
func slotDecay(vr optVariant, j int) float64 {
	switch {
	case vr.name == "SGD" || vr.name == "SGD/nesterov-no-momentum":
		return 0
	case vr.name == "Adam/amsgrad=true" && j == 3:
		return 1
	case strings.HasPrefix(vr.name, "Adam/") && j == 2:
		return 0.999
	}
	return 0.9
}

// TestOptimSlotDecayToZero steps every variant, on every level and through
// the reference side by side, with a zero gradient (of both signs) from
// slots of random magnitudes between 1e-28 and 1e-20, under Keras's
// default decays (SGD's and RMSprop's momentum 0.9, ρ = 0.9, β1 = 0.9,
// β2 = 0.999). Every step gives the reference's bits; a flushed slot never
// holds −0 or a value below 2⁻⁹⁵ and is flushed only from a value that
// one more decay step would take below 2⁻⁹⁵ (none early); and within the steps the
// slowest decay needs, every decaying slot is exactly +0 (AMSGrad's v̂
// keeps its maximum) while θ stays finite. Without the rule the
// decay ends on a subnormal that rounding keeps for ever: m + (0−m)·0.1 = m
// below 5·2⁻¹⁴⁹, v + (0−v)·0.001 = v below 500·2⁻¹⁴⁹, m·0.9 = m at 4·2⁻¹⁴⁹.
func TestOptimSlotDecayToZero(t *testing.T) {
	h := optHyper{lr: 0.001, beta: 0.9, eps: 1e-7, omb: 0.1, mu: 0.9}
	hAdam := optHyper{lr: 0.001, beta: 0.9, eps: 1e-7, omb: 0.1, mu: 0.001} // Adam's mu is 1−β2
	// Whole vectors and a tail on every level.
	const n = 4*16 + 3
	// Adam's v needs ln(1e-20/2⁻⁹⁵)/−ln(0.999) ≈ 19 800 steps from 1e-20
	// to below 2⁻⁹⁵; the others about 200.
	const maxSteps = 20000
	forEachLevel(t, func(t *testing.T) {
		for _, vr := range optVariants {
			if !hasFlushed(vr) {
				continue
			}
			hv := h
			if strings.HasPrefix(vr.name, "Adam/") {
				hv = hAdam
			}
			r := rand.New(rand.NewPCG(31, uint64(len(vr.name))))
			nv := len(vr.pos)
			got := make([][]float32, nv)
			for j := range got {
				got[j] = make([]float32, n)
				for i := range got[j] {
					x := float32(math.Pow(10, -20-8*r.Float64()))
					if !vr.pos[j] && r.IntN(2) == 0 {
						x = -x
					}
					got[j][i] = x
				}
			}
			for i := range got[0] {
				got[0][i] = float32(r.NormFloat64())
			}
			g := got[nv-1]
			for i := range g {
				g[i] = float32(math.Copysign(0, float64(i%2)-0.5))
			}
			switch {
			case strings.HasPrefix(vr.name, "RMSprop/"):
				// v above every ḡ² (at most 1e-40), so that v − ḡ² + ε > 0.
				for i := range got[1] {
					got[1][i] = 1e-20
				}
			}
			want := make([][]float32, nv)
			for j := range want {
				want[j] = clone(got[j])
			}
			prev := make([][]float32, nv)
			step := 0
			for ; step < maxSteps; step++ {
				for j := range prev {
					prev[j] = append(prev[j][:0], got[j]...)
				}
				vr.api(got, hv)
				vr.ref(want, hv)
				done := true
				for j := range got {
					if i := firstDiffOrNaN(got[j], want[j]); i >= 0 {
						t.Fatalf("%s step %d: vector %d [%d] = %v (%#08x), reference %v (%#08x)", vr.name, step, j, i,
							got[j][i], math.Float32bits(got[j][i]), want[j][i], math.Float32bits(want[j][i]))
					}
					if !vr.flushed[j] {
						continue
					}
					for i, x := range got[j] {
						if isFlushable(x) {
							t.Fatalf("%s step %d: slot %d [%d] = %v (%#08x)", vr.name, step, j, i, x, math.Float32bits(x))
						}
						if math.Float32bits(x) == 0 {
							if p := math.Abs(float64(prev[j][i])); p != 0 && p*slotDecay(vr, j) >= 0x1p-95*(1+0x1p-20) {
								t.Fatalf("%s step %d: slot %d [%d] flushed from %v", vr.name, step, j, i, prev[j][i])
							}
						} else if slotDecay(vr, j) < 1 {
							done = false
						}
					}
				}
				if done {
					break
				}
			}
			if step == maxSteps {
				t.Fatalf("%s: flushed slots not all +0 after %d steps", vr.name, maxSteps)
			}
			for i, x := range got[0] {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%s: θ[%d] = %v", vr.name, i, x)
				}
			}
			t.Logf("%s: every flushed slot +0 after %d steps", vr.name, step+1)
		}
	})
}

// TestOptimCasesUnused: every slot a case says it leaves unused is a slot
// of its optimizer, so that a misspelt name cannot exempt a slot from the
// flush tests.
func TestOptimCasesUnused(t *testing.T) {
	for _, o := range optimizers {
		for _, c := range optimizerCases[o.Name] {
			for _, u := range c.unused {
				if !slices.ContainsFunc(o.Slots, func(s OptimizerSlot) bool { return s.Name == u }) {
					t.Errorf("%s: unused slot %q is not a slot of %s", c.name, u, o.Name)
				}
			}
		}
	}
}
