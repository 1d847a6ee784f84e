package kernels

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// Tests of the optimizer steps and vector reductions on every level,
// beyond what TestOptimizerSteps and TestVectorUtilities check: every
// variant the assembly has a separate function for, every length across
// the vector widths and their tails, slices starting at an odd element
// (so never 32- or 64-byte aligned), guard cells after every array,
// special values in every operand, and the same bits as the reference.
// NaN results must be NaN on both sides; their payloads are not specified.

// optSizes are the lengths the optimizer tests use: every n up to three
// AVX-512 vectors and one, the tutorial's 79510 parameters, and a random
// length.
func optSizes(r *rand.Rand) []int {
	var ns []int
	for n := 0; n <= 3*16+1; n++ {
		ns = append(ns, n)
	}
	return append(ns, 79510, 1000+r.IntN(3000))
}

// offsetGuarded returns n cells starting one element past an aligned
// boundary, with guard cells of guardBits before and after.
func offsetGuarded(n int) (buf, s []float32) {
	buf = make([]float32, n+2*guardN+1)
	g := math.Float32frombits(guardBits)
	for i := range buf {
		buf[i] = g
	}
	return buf, buf[guardN+1 : guardN+1+n : guardN+1+n]
}

// checkOffsetGuards fails t if a cell of buf outside the n cells of
// offsetGuarded changed.
func checkOffsetGuards(t *testing.T, what string, buf []float32, n int) {
	t.Helper()
	for i, v := range buf {
		if i >= guardN+1 && i < guardN+1+n {
			continue
		}
		if math.Float32bits(v) != guardBits {
			t.Fatalf("%s: guard cell %d (relative to the array) overwritten with %v", what, i-guardN-1, v)
		}
	}
}

// optVariant is one case of an optimizer (see optCase) with what the
// tests fill its vectors with: pos marks the non-negative ones (θ, each
// slot, g), taken from the optimizer table's slots.
type optVariant struct {
	optCase
	pos []bool
	// flushed marks the slots the step flushes (OptimizerSlot.Flushed and
	// not among the case's unused ones), indexed as pos.
	flushed []bool
}

// optVariants lists every case of every row of the optimizer table, so a
// new optimizer is tested on every level without a line here.
var optVariants = func() []optVariant {
	var vs []optVariant
	for _, o := range optimizers {
		pos := []bool{false}
		for _, s := range o.Slots {
			pos = append(pos, s.NonNegative)
		}
		pos = append(pos, false)
		for _, c := range optimizerCases[o.Name] {
			flushed := []bool{false}
			for _, s := range o.Slots {
				flushed = append(flushed, s.Flushed && !slices.Contains(c.unused, s.Name))
			}
			vs = append(vs, optVariant{c, pos, append(flushed, false)})
		}
	}
	return vs
}()

// optHypers are Keras's defaults, other plausible settings and a few
// random ones.
func optHypers(r *rand.Rand) []optHyper {
	hs := []optHyper{
		{0.001, 0.9, 1e-7, 0.1, 0.9},
		{0.01, 0.99, 1e-3, 0.01, 0.5},
		{0.000316225662, 0.999, 1e-7, 0.1, 0.001},
	}
	for range 2 {
		hs = append(hs, optHyper{float32(r.ExpFloat64() * 0.1), float32(r.Float64()), float32(r.ExpFloat64() * 1e-4),
			float32(r.Float64()), float32(r.Float64())})
	}
	return hs
}

// optSpecials are the state and gradient values mixed into the inputs:
// zeros of both signs, infinities, NaN, subnormals, huge and tiny values,
// both signs of the smallest normal float32 and its neighbours (the
// largest subnormal, the next normal), and of 2⁻⁹⁵ and its neighbours,
// where the slots' flush ends. All but the first five are finite.
var optSpecials = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	1e-40, -1e-40, 1e-45, 1e-30, -1e-30, 1e19, -1e19, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32,
	0x1p-126, 1, -1, 0.5, 3,
	-0x1p-126, 0x1.fffffcp-127, -0x1.fffffcp-127, 0x1.000002p-126, -0x1.000002p-126, -1e-45,
	0x1p-95, -0x1p-95, 0x1.fffffep-96, -0x1.fffffep-96, 0x1.000002p-95, -0x1.000002p-95,
}

// fillOpt fills v: about one value in withSpecials is a special (none
// when 0), the others normal, or exponential where pos is set.
func fillOpt(r *rand.Rand, v []float32, pos bool, withSpecials int) {
	for i := range v {
		switch {
		case withSpecials > 0 && r.IntN(withSpecials) == 0:
			v[i] = optSpecials[r.IntN(len(optSpecials))]
		case pos:
			v[i] = float32(r.ExpFloat64() * 0.01)
		default:
			v[i] = float32(r.NormFloat64())
		}
	}
}

// runOptVariant runs one variant on the active level over guarded vectors
// filled by fill, and on clones through the reference, and compares every
// vector bit for bit (NaN matching any NaN). It returns the inputs and the
// level's results.
func runOptVariant(t *testing.T, vr optVariant, n int, h optHyper, fill func(k int, v []float32)) (in, got [][]float32) {
	t.Helper()
	nv := len(vr.pos)
	bufs := make([][]float32, nv)
	got = make([][]float32, nv)
	want := make([][]float32, nv)
	in = make([][]float32, nv)
	for k := range got {
		bufs[k], got[k] = offsetGuarded(n)
		fill(k, got[k])
		want[k] = clone(got[k])
		in[k] = clone(got[k])
	}
	vr.api(got, h)
	vr.ref(want, h)
	for k := range got {
		checkOffsetGuards(t, fmt.Sprintf("%s n=%d vector %d", vr.name, n, k), bufs[k], n)
		for i := range got[k] {
			if !sameBitsOrNaN(got[k][i], want[k][i]) {
				t.Fatalf("%s %+v n=%d: vector %d [%d] = %v (%#x), reference %v (%#x); g[%d] = %v",
					vr.name, h, n, k, i, got[k][i], math.Float32bits(got[k][i]), want[k][i], math.Float32bits(want[k][i]), i, in[nv-1][i])
			}
		}
	}
	if i := firstDiff(got[nv-1], in[nv-1]); i >= 0 {
		t.Fatalf("%s n=%d: g[%d] changed", vr.name, n, i)
	}
	return in, got
}

func TestOptimVariantsBitExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 21))
		hs := optHypers(r)
		for _, vr := range optVariants {
			for _, n := range optSizes(r) {
				for hi, h := range hs {
					// Specials in one pass of three, so that most lanes of
					// the others stay finite over long vectors.
					sp := 0
					if hi%3 == 1 {
						sp = 8
					}
					runOptVariant(t, vr, n, h, func(k int, v []float32) { fillOpt(r, v, vr.pos[k], sp) })
				}
			}
		}
	})
}

// TestOptimSpecialValues puts every pair of special values in the
// gradient and each state vector, and uses special hyperparameters too
// (zero, negative, infinite and NaN rates; zero epsilon).
func TestOptimSpecialValues(t *testing.T) {
	k := len(optSpecials)
	n := k * k
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	hs := []optHyper{
		{0.001, 0.9, 1e-7, 0.1, 0.9},
		{0, 0, 0, 0, 0},
		{-0.5, 1, 0, 0, -1},
		{inf, 2, inf, -1, inf},
		{nan, nan, nan, nan, nan},
		{1e30, 1e-30, 1e-45, 1e30, 1e-30},
	}
	forEachLevel(t, func(t *testing.T) {
		for _, vr := range optVariants {
			for _, h := range hs {
				// Vector j gets pattern j: the specials cycle at a different
				// period in each, so every pair of g and one slot meets.
				runOptVariant(t, vr, n, h, func(j int, v []float32) {
					for i := range v {
						if j == len(vr.pos)-1 {
							v[i] = optSpecials[i%k]
						} else {
							v[i] = optSpecials[(i/k+j)%k]
						}
					}
				})
			}
		}
	})
}

// sumSquaresLanes is the order the assembly adds in (see SumSquares in
// kernels/asm): x[i]² into partial sum i mod 32, then pairwise halving.
func sumSquaresLanes(x []float32) float64 {
	var s [32]float64
	for i, v := range x {
		s[i%32] += float64(v) * float64(v)
	}
	for step := 16; step >= 1; step /= 2 {
		for k := 0; k < step; k++ {
			s[k] += s[k+step]
		}
	}
	return s[0]
}

// exactSumSquares is Σ x[i]² in exact arithmetic, rounded to float64
// (NaN if some x[i] is NaN, which big.Float cannot hold).
func exactSumSquares(x []float32) float64 {
	acc := new(big.Float).SetPrec(2000)
	t := new(big.Float).SetPrec(2000)
	for _, v := range x {
		if v != v {
			return math.NaN()
		}
		t.SetFloat64(float64(v))
		t.Mul(t, t)
		acc.Add(acc, t)
	}
	f, _ := acc.Float64()
	return f
}

// TestSumSquaresOrder: every level is within (n−1)·2⁻⁵³ of the exact sum
// relative to it (the bound of recursive summation of non-negative terms
// in any order, plus the final rounding), and the assembly levels give
// exactly the bits of their documented order.
func TestSumSquaresOrder(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(22, 22))
		for _, n := range append(optSizes(r), 63, 64, 65, 95, 96, 97) {
			for _, sd := range []float64{1, 1e-20, 1e15} {
				buf, x := offsetGuarded(n)
				for i := range x {
					x[i] = float32(r.NormFloat64() * sd)
				}
				x0 := clone(x)
				got := SumSquares(x)
				checkOffsetGuards(t, "SumSquares", buf, n)
				if firstDiff(x, x0) >= 0 {
					t.Fatalf("SumSquares n=%d: input changed", n)
				}
				exact := exactSumSquares(x)
				if math.Abs(got-exact) > (float64(max(n-1, 0))*0x1p-53+0x1p-53)*exact {
					t.Fatalf("SumSquares n=%d sd=%g: %v, exact %v", n, sd, got, exact)
				}
				if Active() != "generic" {
					if want := sumSquaresLanes(x); math.Float64bits(got) != math.Float64bits(want) {
						t.Fatalf("SumSquares n=%d sd=%g: %v, the 32-lane order gives %v", n, sd, got, want)
					}
				}
			}
		}
		inf := float32(math.Inf(1))
		for _, n := range []int{1, 7, 31, 32, 33, 100} {
			for _, c := range []struct {
				bad  float32
				want float64
			}{{inf, math.Inf(1)}, {-inf, math.Inf(1)}, {float32(math.NaN()), math.NaN()}} {
				for _, at := range []int{0, n / 2, n - 1} {
					x := make([]float32, n)
					for i := range x {
						x[i] = 1
					}
					x[at] = c.bad
					got := SumSquares(x)
					if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
						t.Fatalf("SumSquares with %v at %d of %d = %v, want %v", c.bad, at, n, got, c.want)
					}
				}
			}
		}
	})
}

func TestScaleLevels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 23))
		for _, n := range optSizes(r) {
			for _, s := range append([]float32{float32(r.NormFloat64())}, optSpecials...) {
				buf, x := offsetGuarded(n)
				fillOpt(r, x, false, 4)
				want := clone(x)
				refScale(want, s)
				Scale(x, s)
				checkOffsetGuards(t, "Scale", buf, n)
				for i := range x {
					if !sameBitsOrNaN(x[i], want[i]) {
						t.Fatalf("Scale n=%d s=%v: [%d] = %v, want %v", n, s, i, x[i], want[i])
					}
				}
			}
		}
	})
}

// TestClampBounds covers bounds of every kind Clamp accepts: equal, zero
// of either sign against ±0 inputs, infinite, and NaN (a NaN bound is
// never applied, as the reference's comparisons are then false).
func TestClampBounds(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	bounds := [][2]float32{
		{-1.5, 2}, {1, 1}, {0, 0}, {negZero, 0}, {negZero, negZero}, {0, 1}, {-1, negZero},
		{-inf, inf}, {-inf, 0}, {0, inf}, {nan, 1}, {-1, nan}, {nan, nan}, {-3e38, 1e-40}, {-1e-45, 1e-45},
	}
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(24, 24))
		for _, n := range optSizes(r) {
			for _, b := range bounds {
				buf, x := offsetGuarded(n)
				fillOpt(r, x, false, 3)
				want := clone(x)
				refClamp(want, b[0], b[1])
				Clamp(x, b[0], b[1])
				checkOffsetGuards(t, "Clamp", buf, n)
				for i := range x {
					if !sameBitsOrNaN(x[i], want[i]) {
						t.Fatalf("Clamp(%v, %v) n=%d: [%d] = %v (%#x), want %v (%#x)", b[0], b[1], n, i,
							x[i], math.Float32bits(x[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	})
}

// TestAllFiniteEveryPosition puts each kind of non-finite value (NaNs of
// either sign with small and large payloads, ±Inf) at every position, and
// the largest finite values everywhere.
func TestAllFiniteEveryPosition(t *testing.T) {
	bad := []uint32{0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff}
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 25))
		for _, n := range optSizes(r) {
			buf, x := offsetGuarded(n)
			for i := range x {
				x[i] = optSpecials[5+r.IntN(len(optSpecials)-5)] // the finite ones
			}
			if !AllFinite(x) {
				t.Fatalf("AllFinite n=%d: false on finite data", n)
			}
			for i := range x {
				x[i] = math.Float32frombits(0x7f7fffff | uint32(i%2)<<31) // ±MaxFloat32
			}
			if !AllFinite(x) {
				t.Fatalf("AllFinite n=%d: false on ±MaxFloat32", n)
			}
			positions := []int{}
			if n <= 100 {
				for i := range n {
					positions = append(positions, i)
				}
			} else {
				positions = append(positions, 0, 1, n/2, n-33, n-17, n-9, n-2, n-1)
			}
			for _, at := range positions {
				old := x[at]
				for _, b := range bad {
					x[at] = math.Float32frombits(b)
					if AllFinite(x) {
						t.Fatalf("AllFinite n=%d: true with %#x at %d", n, b, at)
					}
				}
				x[at] = old
			}
			// A non-finite value just outside the slice is not seen.
			buf[guardN] = float32(math.Inf(1))
			if !AllFinite(x) {
				t.Fatalf("AllFinite n=%d: looked before the slice", n)
			}
			if n > 0 && !AllFinite(x[:n-1]) {
				t.Fatalf("AllFinite n=%d: looked past the slice", n-1)
			}
		}
	})
}

// TestColSumLevels: every cols across the vector widths and tails, rows
// from 0, x at an odd offset; the same bits as adding the rows in order.
func TestColSumLevels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(26, 26))
		colsList := []int{100, 128, 257, 784}
		for c := 0; c <= 4*16+1; c++ {
			colsList = append(colsList, c)
		}
		for _, rows := range []int{0, 1, 2, 3, 5, 32, 33} {
			for _, cols := range colsList {
				xbuf, x := offsetGuarded(rows * cols)
				fillOpt(r, x, false, 6)
				x0 := clone(x)
				buf, dst := offsetGuarded(cols)
				for i := range dst {
					dst[i] = float32(math.NaN()) // overwritten, not added to
				}
				want := make([]float32, cols)
				refColSum(want, x, rows, cols)
				ColSum(dst, x, rows, cols)
				checkOffsetGuards(t, "ColSum dst", buf, cols)
				checkOffsetGuards(t, "ColSum x", xbuf, rows*cols)
				if firstDiff(x, x0) >= 0 {
					t.Fatalf("ColSum %s: input changed", shapeName(rows, cols))
				}
				for j := range dst {
					if !sameBitsOrNaN(dst[j], want[j]) {
						t.Fatalf("ColSum %s: [%d] = %v (%#x), want %v (%#x)", shapeName(rows, cols), j,
							dst[j], math.Float32bits(dst[j]), want[j], math.Float32bits(want[j]))
					}
				}
			}
		}
	})
}

// TestOptimNoAllocs covers every variant, each of which selects its own
// assembly function.
func TestOptimNoAllocs(t *testing.T) {
	n := 1000
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 27))
		h := optHypers(r)[0]
		vecs := make([][]float32, 5)
		for k := range vecs {
			vecs[k] = make([]float32, n)
			fillOpt(r, vecs[k], true, 0)
		}
		for _, vr := range optVariants {
			if a := testing.AllocsPerRun(10, func() { vr.api(vecs, h) }); a != 0 {
				t.Errorf("%s: %v allocations per call", vr.name, a)
			}
		}
		x := vecs[0]
		for name, f := range map[string]func(){
			"SumSquares": func() { SumSquares(x) },
			"Scale":      func() { Scale(x, 1) },
			"Clamp":      func() { Clamp(x, -1, 1) },
			"AllFinite":  func() { AllFinite(x) },
			"ColSum":     func() { ColSum(vecs[1][:10], x, 100, 10) },
		} {
			if a := testing.AllocsPerRun(10, f); a != 0 {
				t.Errorf("%s: %v allocations per call", name, a)
			}
		}
	})
}

// FuzzOptimLevels runs every optimizer variant on vectors made of the
// fuzzed bytes (split into theta, three slots and g), on every level,
// against the reference bit for bit. Unlike FuzzOptimizers (one element,
// so only the assembly's tails), the vectors reach the main loops.
//
//	go test -run '^$' -fuzz FuzzOptimLevels -fuzztime 2000x ./kernels
func FuzzOptimLevels(f *testing.F) {
	f.Add(fuzzBytes(make([]float32, 5*37)...), float32(0.001), float32(0.9), float32(1e-7), float32(0.1), float32(0.9))
	f.Add(fuzzBytes(optSpecials...), float32(0.5), float32(0.3), float32(0), float32(1), float32(2))
	seed := make([]float32, 5*70)
	for i := range seed {
		seed[i] = optSpecials[(i*7)%len(optSpecials)]
	}
	f.Add(fuzzBytes(seed...), float32(1e-3), float32(0.99), float32(1e-8), float32(0.01), float32(0.5))
	f.Fuzz(func(t *testing.T, data []byte, lr, beta, eps, omb, mu float32) {
		x := fuzzFloats(data)
		n := len(x) / 5
		h := optHyper{lr, beta, eps, omb, mu}
		forEachLevel(t, func(t *testing.T) {
			for _, vr := range optVariants {
				nv := len(vr.pos)
				runOptVariant(t, vr, n, h, func(k int, v []float32) {
					// g comes from the last part, the others in order.
					if k == nv-1 {
						k = 4
					}
					copy(v, x[k*n:])
				})
			}
		})
	})
}

// FuzzReductionLevels checks SumSquares, Scale, Clamp, AllFinite and
// ColSum on fuzzed data, on every level, against the reference.
func FuzzReductionLevels(f *testing.F) {
	f.Add(fuzzBytes(optSpecials...), float32(-1), float32(1), float32(0.5), uint8(3))
	f.Add(fuzzBytes(make([]float32, 70)...), float32(0), float32(0), float32(-2), uint8(17))
	f.Fuzz(func(t *testing.T, data []byte, lo, hi, s float32, c uint8) {
		x := fuzzFloats(data)
		n := len(x)
		forEachLevel(t, func(t *testing.T) {
			exact := exactSumSquares(x)
			got := SumSquares(x)
			switch {
			case math.IsNaN(exact) || math.IsInf(exact, 0):
				// A NaN or Inf input: the result is NaN or +Inf whatever
				// the order.
				want := refSumSquares(x)
				if !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("SumSquares = %v, reference %v", got, want)
				}
			case math.Abs(got-exact) > float64(n)*0x1p-53*exact:
				t.Fatalf("SumSquares = %v, exact %v", got, exact)
			}
			if got, want := AllFinite(x), refAllFinite(x); got != want {
				t.Fatalf("AllFinite = %v, reference %v", got, want)
			}
			y, w := clone(x), clone(x)
			Scale(y, s)
			refScale(w, s)
			if i := firstDiffOrNaN(y, w); i >= 0 {
				t.Fatalf("Scale(%v): [%d] = %v, want %v", s, i, y[i], w[i])
			}
			if !(lo > hi) {
				y, w = clone(x), clone(x)
				Clamp(y, lo, hi)
				refClamp(w, lo, hi)
				if i := firstDiffOrNaN(y, w); i >= 0 {
					t.Fatalf("Clamp(%v, %v): [%d] = %v, want %v", lo, hi, i, y[i], w[i])
				}
			}
			if cols := int(c); cols > 0 {
				rows := n / cols
				dst, want := make([]float32, cols), make([]float32, cols)
				ColSum(dst, x, rows, cols)
				refColSum(want, x, rows, cols)
				if i := firstDiffOrNaN(dst, want); i >= 0 {
					t.Fatalf("ColSum %s: [%d] = %v, want %v", shapeName(rows, cols), i, dst[i], want[i])
				}
			}
		})
	})
}

// firstDiffOrNaN is firstDiff with any two NaNs equal.
func firstDiffOrNaN(a, b []float32) int {
	for i := range a {
		if !sameBitsOrNaN(a[i], b[i]) {
			return i
		}
	}
	return -1
}
