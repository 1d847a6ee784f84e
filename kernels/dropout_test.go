package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests of Dropout on every level. The mask is the contract (the backward
// pass regenerates it, and a model must train the same on every machine),
// so every level must give the reference's bits on every length, counter,
// key and threshold, and the reference must agree with an oracle written
// here from DropoutParams's doc comment alone.

// dropoutLens are every length up to four AVX-512 vectors and six, and
// lengths around and far from the vector widths.
func dropoutLens() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 127, 128, 129, 1000, 4099)
}

// dropoutCases are masks of every kind the kernels distinguish: keep all
// (threshold 0), drop all (2²⁴), the largest threshold that can keep, the
// middle of the range (the sign bit of h>>8's top half, where a signed
// compare would go wrong), counters that wrap past 2³² inside short and
// long calls, and random keys, thresholds and scales.
func dropoutCases(r *rand.Rand) []DropoutParams {
	k := func() uint32 { return r.Uint32() }
	return []DropoutParams{
		{Threshold: 0, Scale: 1},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 0, Scale: 1.25},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 1 << 24, Scale: 2},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 1<<24 - 1, Scale: 3},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 1 << 23, Scale: 2},
		{Key0: k(), Key1: k(), Counter: math.MaxUint32 - 20, Threshold: 5033165, Scale: 1.4285715},
		{Key0: k(), Key1: k(), Counter: math.MaxUint32 - 1500, Threshold: 1677722, Scale: 1.1111112},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: r.Uint32N(1<<24 + 1), Scale: float32(r.NormFloat64())},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 1, Scale: -0.5},
		{Key0: k(), Key1: k(), Counter: k(), Threshold: 3 << 22, Scale: float32(math.Inf(1))},
	}
}

// dropoutBuf returns n cells that start off elements after guardN guard
// cells, so that off = 1 or 3 leaves the slice unaligned for every vector
// width, with guard cells after it too; the slice's capacity ends at n.
func dropoutBuf(n, off int) (buf, s []float32) {
	buf = make([]float32, off+n+2*guardN)
	g := math.Float32frombits(guardBits)
	for i := range buf {
		buf[i] = g
	}
	lo := guardN + off
	return buf, buf[lo : lo+n : lo+n]
}

// checkDropoutGuards fails t if a cell of buf outside the n cells of
// dropoutBuf(n, off) changed.
func checkDropoutGuards(t *testing.T, what string, buf []float32, n, off int) {
	t.Helper()
	lo := guardN + off
	for i, v := range buf {
		if i >= lo && i < lo+n {
			continue
		}
		if math.Float32bits(v) != guardBits {
			t.Fatalf("%s: cell %d (relative to the slice) overwritten with %v", what, i-lo, v)
		}
	}
}

// checkDropoutBits fails t unless got has want's bits: the multiply and
// the zeroing are exact operations, so no tolerance applies, and NaN
// payloads agree too (the kept NaN is x's, quieted, in both).
func checkDropoutBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("%s: [%d] = %v (%#08x), want %v (%#08x)", what, i,
			got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

func TestDropoutLevels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 41))
		cases := dropoutCases(r)
		for _, n := range dropoutLens() {
			for ci, p := range cases {
				for _, off := range []int{0, 1, 3} {
					x := randInput(r, n, 3, true)
					want := make([]float32, n)
					refDropout(want, x, p)
					what := fmt.Sprintf("n=%d case %d %+v off=%d", n, ci, p, off)

					xbuf, xs := dropoutBuf(n, off)
					copy(xs, x)
					dbuf, ds := dropoutBuf(n, off)
					Dropout(ds, xs, p)
					checkDropoutBits(t, what, ds, want)
					checkDropoutGuards(t, what+" dst", dbuf, n, off)
					checkDropoutGuards(t, what+" x", xbuf, n, off)
					checkDropoutBits(t, what+" x changed", xs, x)

					Dropout(xs, xs, p)
					checkDropoutBits(t, what+" in place", xs, want)
					checkDropoutGuards(t, what+" in place", xbuf, n, off)
				}
			}
		}
		// Empty slices, nil included, touch nothing.
		Dropout(nil, nil, cases[3])
		Dropout([]float32{}, make([]float32, 0, 8), cases[3])
	})
}

// TestDropoutSpecials puts every special value in every lane position of
// kept and dropped units: a dropped NaN, ±Inf or −0 must give +0, a kept
// one its product with Scale.
func TestDropoutSpecials(t *testing.T) {
	sp := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.Copysign(0, -1)), 0, 1e-45, -1e-40, math.MaxFloat32, -1}
	forEachLevel(t, func(t *testing.T) {
		for _, p := range []DropoutParams{
			{Key0: 1, Key1: 2, Counter: 3, Threshold: 1 << 23, Scale: 2},
			{Key0: 5, Key1: 6, Counter: 7, Threshold: 1 << 23, Scale: -0.75},
		} {
			for _, v := range sp {
				n := 67
				x := make([]float32, n)
				for i := range x {
					x[i] = v
				}
				want := make([]float32, n)
				refDropout(want, x, p)
				got := make([]float32, n)
				Dropout(got, x, p)
				checkDropoutBits(t, fmt.Sprintf("x=%v %+v", v, p), got, want)
				kept := 0
				for i := range got {
					if DropoutKeep(p, i) {
						kept++
					} else if math.Float32bits(got[i]) != 0 {
						t.Fatalf("x=%v: dropped unit %d is %v, want +0", v, i, got[i])
					}
				}
				if kept == 0 || kept == n {
					t.Fatalf("%+v keeps %d of %d units: the case tests only one side", p, kept, n)
				}
			}
		}
	})
}

// dropoutMixInverse undoes dropoutMix: x ^= x>>16 is its own inverse,
// x ^= x>>15 is undone by x ^= x>>15 ^ x>>30, and an odd multiplier by
// its inverse modulo 2³².
func dropoutMixInverse(x uint32) uint32 {
	x ^= x >> 16
	x *= oddInverse(0x846ca68b)
	x ^= x>>15 ^ x>>30
	x *= oddInverse(0x7feb352d)
	x ^= x >> 16
	return x
}

// oddInverse returns the inverse of the odd m modulo 2³² by Newton's
// iteration, which doubles the correct low bits each step (m is its own
// inverse modulo 8).
func oddInverse(m uint32) uint32 {
	inv := m
	for range 4 {
		inv *= 2 - m*inv
	}
	return inv
}

// dropoutCounterFor returns the counter whose hash under keys k0, k1 is h.
func dropoutCounterFor(k0, k1, h uint32) uint32 {
	return dropoutMixInverse(dropoutMixInverse(h)^k1) ^ k0
}

func TestDropoutMixInverse(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	for range 10000 {
		x := r.Uint32()
		if got := dropoutMixInverse(dropoutMix(x)); got != x {
			t.Fatalf("inverse(mix(%#x)) = %#x", x, got)
		}
	}
}

// TestDropoutThresholdEdges places units whose h>>8 is exactly v (built
// by inverting the hash) at lane positions of whole vectors and of tails,
// then sets Threshold to v−1, v and v+1: the unit must be kept for the
// first two and dropped for the third on every level. v covers the ends
// of the range and the middle, where a compare of the wrong signedness
// would differ.
func TestDropoutThresholdEdges(t *testing.T) {
	const n = 51 // three AVX-512 vectors and a tail of 3
	r := rand.New(rand.NewPCG(43, 43))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i + 1)
	}
	forEachLevel(t, func(t *testing.T) {
		got, want := make([]float32, n), make([]float32, n)
		for _, v := range []uint32{0, 1, 2, 1<<23 - 1, 1 << 23, 1<<24 - 2, 1<<24 - 1} {
			for _, j := range []int{0, 3, 4, 7, 8, 15, 16, 17, 31, 47, 48, 50} {
				k0, k1 := r.Uint32(), r.Uint32()
				c := dropoutCounterFor(k0, k1, v<<8|r.Uint32N(256))
				for _, th := range []uint32{v - 1, v, v + 1} {
					if v == 0 && th == v-1 {
						continue
					}
					p := DropoutParams{Key0: k0, Key1: k1, Counter: c - uint32(j), Threshold: th, Scale: 1}
					if keep := DropoutKeep(p, j); keep != (v >= th) {
						t.Fatalf("v=%d threshold=%d: DropoutKeep = %v", v, th, keep)
					}
					Dropout(got, x, p)
					refDropout(want, x, p)
					what := fmt.Sprintf("v=%d at %d, threshold %d", v, j, th)
					checkDropoutBits(t, what, got, want)
					if kept := got[j] != 0; kept != (v >= th) {
						t.Fatalf("%s: unit kept = %v", what, kept)
					}
				}
			}
		}
	})
}

// oracleHash and oracleDropout are Dropout as DropoutParams's doc comment
// states it, written without the package's hash: the mixing function in
// 64-bit arithmetic reduced modulo 2³², the test as a comparison of the
// uniform u = ⌊h/2⁸⌋/2²⁴ with Threshold/2²⁴ in float64, and the kept value
// as the float64 product rounded once to float32 (exact: a product of two
// float32s fits in float64's 53 bits).
func oracleHash(p DropoutParams, i int) uint64 {
	const m32 = 1<<32 - 1
	mix := func(v uint64) uint64 {
		v ^= v >> 16
		v = v * 0x7feb352d & m32
		v ^= v >> 15
		v = v * 0x846ca68b & m32
		v ^= v >> 16
		return v
	}
	c := (uint64(p.Counter) + uint64(i)) & m32
	return mix(mix(c^uint64(p.Key0)) ^ uint64(p.Key1))
}

func oracleDropout(p DropoutParams, i int, x float32) (keep bool, y float32) {
	u := math.Floor(float64(oracleHash(p, i))/256) / (1 << 24)
	keep = u >= float64(p.Threshold)/(1<<24)
	if keep {
		y = float32(float64(x) * float64(p.Scale))
	}
	return keep, y
}

// TestDropoutOracle compares DropoutKeep with the oracle on random keys
// and counters (some wrapping past 2³²), with thresholds that are random
// or equal to, or one above, the top bits of some unit's hash, so that
// the comparison's boundary is met; then every level's output.
func TestDropoutOracle(t *testing.T) {
	const n = 20000
	r := rand.New(rand.NewPCG(44, 44))
	for k := range 60 {
		p := DropoutParams{Key0: r.Uint32(), Key1: r.Uint32(), Counter: r.Uint32(),
			Threshold: r.Uint32N(1<<24 + 1), Scale: 1}
		if r.IntN(4) == 0 {
			p.Counter = math.MaxUint32 - r.Uint32N(n)
		}
		if k%3 != 0 {
			p.Threshold = uint32(oracleHash(p, r.IntN(n))>>8) + uint32(k%3-1)
		}
		for i := range n {
			if keep, _ := oracleDropout(p, i, 1); keep != DropoutKeep(p, i) {
				t.Fatalf("%+v unit %d: DropoutKeep = %v, the oracle says %v", p, i, !keep, keep)
			}
		}
	}
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(45, 45))
		for _, n := range []int{1, 17, 1000, 4099} {
			p := NewDropoutParams(r.Float64(), r.Uint64())
			p.Counter = r.Uint32()
			x := randInput(r, n, 5, false)
			got := make([]float32, n)
			Dropout(got, x, p)
			for i, v := range x {
				_, y := oracleDropout(p, i, v)
				if math.Float32bits(got[i]) != math.Float32bits(y) {
					t.Fatalf("n=%d %+v: [%d] = %v, the oracle says %v", n, p, i, got[i], y)
				}
			}
		}
	})
}

// TestDropoutKeepRate runs Dropout on 10⁶ ones at rates 0.1, 0.3 and 0.5
// with three keys: the kept fraction must be within 0.2 percentage points
// of 1 − rate (over 4 standard deviations at 0.5), and every kept unit
// exactly Scale.
func TestDropoutKeepRate(t *testing.T) {
	const n = 1_000_000
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	dst := make([]float32, n)
	forEachLevel(t, func(t *testing.T) {
		for _, rate := range []float64{0.1, 0.3, 0.5} {
			for _, key := range []uint64{0, 0x9e3779b97f4a7c15, 12345} {
				p := NewDropoutParams(rate, key)
				Dropout(dst, ones, p)
				kept := 0
				for i, v := range dst {
					switch v {
					case 0:
					case p.Scale:
						kept++
					default:
						t.Fatalf("rate %v key %#x: [%d] = %v, want 0 or %v", rate, key, i, v, p.Scale)
					}
				}
				frac := float64(kept) / n
				if math.Abs(frac-(1-rate)) > 0.002 {
					t.Errorf("rate %v key %#x: kept %.5f, want %.5f ± 0.002", rate, key, frac, 1-rate)
				}
			}
		}
	})
}

// dropoutMask returns the keep mask of p over n units as 0s and 1s.
func dropoutMask(p DropoutParams, n int) []float64 {
	m := make([]float64, n)
	for i := range m {
		if DropoutKeep(p, i) {
			m[i] = 1
		}
	}
	return m
}

// correlation returns Pearson's correlation of a and b.
func correlation(a, b []float64) float64 {
	var sa, sb, saa, sbb, sab float64
	for i := range a {
		sa += a[i]
		sb += b[i]
		saa += a[i] * a[i]
		sbb += b[i] * b[i]
		sab += a[i] * b[i]
	}
	n := float64(len(a))
	cov := sab/n - sa/n*sb/n
	return cov / math.Sqrt((saa/n-sa/n*sa/n)*(sbb/n-sb/n*sb/n))
}

// TestDropoutKeysIndependent checks that masks of different keys, even
// keys one bit apart in either half, and neighbouring units of one mask
// are uncorrelated: |r| below 0.005, five standard deviations over 10⁶
// units.
func TestDropoutKeysIndependent(t *testing.T) {
	const n = 1_000_000
	const key = 0x0123456789abcdef
	base := dropoutMask(NewDropoutParams(0.3, key), n)
	for _, other := range []uint64{key ^ 1, key ^ 1<<32, key ^ 1<<63, 0xfedcba9876543210} {
		m := dropoutMask(NewDropoutParams(0.3, other), n)
		same := true
		for i := range m {
			if m[i] != base[i] {
				same = false
				break
			}
		}
		if same {
			t.Fatalf("keys %#x and %#x give the same mask", uint64(key), other)
		}
		if c := correlation(base, m); math.Abs(c) > 0.005 {
			t.Errorf("keys %#x and %#x: masks correlated, r = %.4f", uint64(key), other, c)
		}
	}
	if c := correlation(base[:n-1], base[1:]); math.Abs(c) > 0.005 {
		t.Errorf("neighbouring units correlated, r = %.4f", c)
	}
}

// TestDropoutSplit cuts one call into two or three at every kind of
// boundary (inside a vector, on one, near the ends), each part with the
// counter of its first unit: the result must be the single call's, as
// the trainer's threads and the backward pass rely on. The counter wraps
// past 2³² inside the slice.
func TestDropoutSplit(t *testing.T) {
	const n = 5000
	r := rand.New(rand.NewPCG(46, 46))
	x := randInput(r, n, 1, true)
	p := NewDropoutParams(0.4, r.Uint64())
	p.Counter = math.MaxUint32 - 2600
	forEachLevel(t, func(t *testing.T) {
		whole := make([]float32, n)
		Dropout(whole, x, p)
		want := make([]float32, n)
		refDropout(want, x, p)
		checkDropoutBits(t, "one call", whole, want)
		got := make([]float32, n)
		for _, cut := range [][]int{{1}, {3}, {7}, {8}, {9}, {16}, {17}, {100}, {2600}, {2601}, {4999}, {5, 13}, {1001, 3333}} {
			clear(got)
			lo := 0
			for _, hi := range append(cut, n) {
				q := p
				q.Counter += uint32(lo)
				Dropout(got[lo:hi], x[lo:hi], q)
				lo = hi
			}
			checkDropoutBits(t, fmt.Sprintf("cut at %v", cut), got, whole)
		}
	})
}

func TestDropoutNoAllocs(t *testing.T) {
	x := randInput(rand.New(rand.NewPCG(47, 47)), 1000, 1, false)
	dst := make([]float32, len(x))
	p := NewDropoutParams(0.5, 7)
	forEachLevel(t, func(t *testing.T) {
		if a := testing.AllocsPerRun(10, func() { Dropout(dst, x, p) }); a != 0 {
			t.Errorf("Dropout: %v allocations per call", a)
		}
		if a := testing.AllocsPerRun(10, func() { Dropout(dst, dst, p) }); a != 0 {
			t.Errorf("Dropout in place: %v allocations per call", a)
		}
	})
}

func TestNewDropoutParams(t *testing.T) {
	for _, c := range []struct {
		rate      float64
		threshold uint32
		scale     float32
	}{
		{0, 0, 1},
		{0.1, 1677722, 1.1111112},        // 0.1·2²⁴ = 1677721.6
		{0.3, 5033165, 1.4285715},        // 5033164.8; float32(1/0.7)
		{0.5, 1 << 23, 2},                // exact
		{0.999999999, 1<<24 - 1, 1e9},    // rounds to 2²⁴, kept below it; 1/1e-9 rounds to float32 1e9
		{0x1p-26, 0, 1},                  // 0.25 rounds down: keeps all
		{1 - 0x1p-25, 1<<24 - 1, 0x1p25}, // the cap, and Scale exactly 2²⁵
	} {
		const key = 0xfeedface_01234567
		p := NewDropoutParams(c.rate, key)
		want := DropoutParams{Key0: 0x01234567, Key1: 0xfeedface, Threshold: c.threshold, Scale: c.scale}
		if p != want {
			t.Errorf("NewDropoutParams(%v) = %+v, want %+v", c.rate, p, want)
		}
	}
	for _, rate := range []float64{-0.1, 1, 1.5, math.NaN(), math.Inf(1), math.Inf(-1), -1e-300} {
		msg := mustPanic(func() { NewDropoutParams(rate, 1) })
		if !strings.Contains(msg, "NewDropoutParams") || !strings.Contains(msg, "rate") {
			t.Errorf("NewDropoutParams(%v): panic %q", rate, msg)
		}
	}
}

func TestDropoutPanics(t *testing.T) {
	p := NewDropoutParams(0.5, 1)
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"short dst", func() { Dropout(make([]float32, 3), make([]float32, 4), p) }, "len(dst) = 3"},
		{"long dst", func() { Dropout(make([]float32, 5), make([]float32, 4), p) }, "len(dst) = 5"},
		{"threshold", func() {
			q := p
			q.Threshold = 1<<24 + 1
			Dropout(make([]float32, 4), make([]float32, 4), q)
		}, "Threshold 16777217"},
	} {
		if msg := mustPanic(c.f); !strings.Contains(msg, c.want) || !strings.Contains(msg, "Dropout") {
			t.Errorf("%s: panic %q, want one naming Dropout and %q", c.name, msg, c.want)
		}
	}
}

// FuzzDropoutLevels compares every level with the reference on the
// fuzzed keys, counter, threshold and scale and on inputs made of the
// fuzzed bytes.
//
//	go test -run '^$' -fuzz FuzzDropoutLevels -fuzztime 2000x ./kernels
func FuzzDropoutLevels(f *testing.F) {
	f.Add(uint32(1), uint32(2), uint32(math.MaxUint32-3), uint32(1<<23), float32(2), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(uint32(0), uint32(0), uint32(0), uint32(0), float32(1), []byte{})
	f.Add(uint32(7), uint32(9), uint32(0), uint32(1<<24), float32(-1), make([]byte, 4*37))
	f.Fuzz(func(t *testing.T, k0, k1, c, th uint32, scale float32, data []byte) {
		p := DropoutParams{Key0: k0, Key1: k1, Counter: c, Threshold: th % (1<<24 + 1), Scale: scale}
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		want := make([]float32, len(x))
		refDropout(want, x, p)
		got := make([]float32, len(x))
		for _, level := range Available() {
			restore, err := Use(level)
			if err != nil {
				t.Fatal(err)
			}
			Dropout(got, x, p)
			restore()
			for i := range got {
				if !sameBitsOrNaN(got[i], want[i]) {
					t.Fatalf("%s %+v: [%d] = %v, want %v", level, p, i, got[i], want[i])
				}
			}
		}
	})
}
