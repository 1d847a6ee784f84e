package mnist

import (
	"slices"
	"strings"
	"testing"
)

// The vectors below come from NumPy 1.24.2 and scikit-learn 1.2.1
// (keras-parity.md, section 2); the legacy stream is frozen by NumPy's
// compatibility policy.

func TestRandomStateSeed(t *testing.T) {
	r := NewRandomState(42)
	if r.key[0] != 42 || r.key[1] != 3107752595 || r.key[2] != 1895908407 || r.key[623] != 26719530 || r.pos != 624 {
		t.Fatalf("state after seeding: key[0..2] = %v, key[623] = %d, pos = %d", r.key[:3], r.key[623], r.pos)
	}
}

func TestRandomStateUint32(t *testing.T) {
	r := NewRandomState(42)
	want := []uint32{1608637542, 3421126067, 4083286876, 787846414, 3143890026}
	for i, w := range want {
		if g := r.Uint32(); g != w {
			t.Fatalf("draw %d: %d, want %d", i, g, w)
		}
	}
}

func TestRandomStateRandint(t *testing.T) {
	for _, tc := range []struct {
		high int64
		want []int64
	}{
		{10, []int64{6, 3, 7, 4, 6}},
		{60000, []int64{56422, 15795, 860}},
		{1 << 31, []int64{1608637542, 1273642419, 1935803228}},
	} {
		r := NewRandomState(42)
		for i, w := range tc.want {
			if g := r.Randint(0, tc.high); g != w {
				t.Errorf("randint(0, %d) draw %d: %d, want %d", tc.high, i, g, w)
			}
		}
	}
	if g := NewRandomState(42).Randint(5, 6); g != 5 {
		t.Errorf("randint(5, 6) = %d", g)
	}
}

func TestRandomStateFloat64(t *testing.T) {
	r := NewRandomState(42)
	for i, w := range []float64{0.3745401188473625, 0.9507143064099162, 0.7319939418114051} {
		if g := r.Float64(); g != w {
			t.Errorf("random_sample draw %d: %v, want %v", i, g, w)
		}
	}
}

func TestRandomStateTomaxint(t *testing.T) {
	r := NewRandomState(42)
	for i, w := range []uint64{3454522818714476249, 8768791796696926855, 6751452423619668515} {
		if g := r.Uint64() >> 1; g != w {
			t.Errorf("tomaxint draw %d: %d, want %d", i, g, w)
		}
	}
}

func TestRandomStatePermutation(t *testing.T) {
	if g := NewRandomState(42).Permutation(10); !slices.Equal(g, []int{8, 1, 5, 0, 7, 2, 9, 4, 3, 6}) {
		t.Errorf("permutation(10) = %v", g)
	}
	if g := NewRandomState(42).Permutation(0); len(g) != 0 {
		t.Errorf("permutation(0) = %v", g)
	}
	if g := NewRandomState(42).Permutation(1); !slices.Equal(g, []int{0}) {
		t.Errorf("permutation(1) = %v", g)
	}
}

func TestRandomStatePermutation60000(t *testing.T) {
	p := NewRandomState(42).Permutation(60000)
	if !slices.Equal(p[:10], []int{12628, 37730, 39991, 8525, 8279, 51012, 14871, 15127, 9366, 33322}) {
		t.Errorf("perm[:10] = %v", p[:10])
	}
	if !slices.Equal(p[12000:12010], []int{48572, 38696, 13611, 35213, 31766, 57477, 9165, 21399, 44113, 55436}) {
		t.Errorf("perm[12000:12010] = %v", p[12000:12010])
	}
	if !slices.Equal(p[len(p)-5:], []int{54343, 38158, 860, 15795, 56422}) {
		t.Errorf("perm[-5:] = %v", p[len(p)-5:])
	}
	seen := make([]bool, len(p))
	for _, v := range p {
		if seen[v] {
			t.Fatalf("%d appears twice", v)
		}
		seen[v] = true
	}
	// The permutation uses exactly 84773 draws: a generator advanced by
	// that many must continue in step, and one advanced by one fewer not.
	for _, draws := range []int{84773, 84772} {
		r := NewRandomState(42)
		r.Permutation(60000)
		q := NewRandomState(42)
		for range draws {
			q.Uint32()
		}
		same := true
		for range 4 {
			if q.Uint32() != r.Uint32() {
				same = false
			}
		}
		if same != (draws == 84773) {
			t.Errorf("after %d draws: in step = %v", draws, same)
		}
	}
}

func TestTrainTestSplitFashion(t *testing.T) {
	train, test := TrainTestSplit(60000, 0.2, 42)
	if len(train) != 48000 || len(test) != 12000 {
		t.Fatalf("sizes %d/%d, want 48000/12000", len(train), len(test))
	}
	if !slices.Equal(test[:10], []int{12628, 37730, 39991, 8525, 8279, 51012, 14871, 15127, 9366, 33322}) {
		t.Errorf("test[:10] = %v", test[:10])
	}
	if !slices.Equal(train[:10], []int{48572, 38696, 13611, 35213, 31766, 57477, 9165, 21399, 44113, 55436}) {
		t.Errorf("train[:10] = %v", train[:10])
	}
	if !slices.Equal(test[len(test)-5:], []int{49914, 34428, 45810, 30357, 36568}) {
		t.Errorf("test[-5:] = %v", test[len(test)-5:])
	}
	if !slices.Equal(train[len(train)-5:], []int{54343, 38158, 860, 15795, 56422}) {
		t.Errorf("train[-5:] = %v", train[len(train)-5:])
	}
	sum := func(s []int) (n int) {
		for _, v := range s {
			n += v
		}
		return n
	}
	if sum(test) != 361688173 || sum(train) != 1438281827 {
		t.Errorf("sums %d/%d, want 361688173/1438281827", sum(test), sum(train))
	}
	// Appending to one part must not disturb the other.
	before := train[0]
	_ = append(test, -1)
	if train[0] != before {
		t.Error("appending to test overwrote train")
	}
}

// scikit-learn's docstring: X = arange(10).reshape(5, 2), test_size=0.33,
// random_state=42 gives X_train rows [2, 0, 3] and X_test rows [1, 4].
func TestTrainTestSplitDocstring(t *testing.T) {
	train, test := TrainTestSplit(5, 0.33, 42)
	if !slices.Equal(train, []int{2, 0, 3}) || !slices.Equal(test, []int{1, 4}) {
		t.Fatalf("train %v test %v, want [2 0 3] [1 4]", train, test)
	}
	x := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	xTrain := make([]int, 6)
	if err := GatherRows(xTrain, x, 2, train); err != nil || !slices.Equal(xTrain, []int{4, 5, 0, 1, 6, 7}) {
		t.Fatalf("X_train = %v, %v", xTrain, err)
	}
}

// scikit-learn's rule (_validate_shuffle_split, for a float test_size and
// no train_size): n_test = ceil(test_size * n_samples), the product taken in
// float64, and n_train = n_samples - n_test. The cases are those where
// rounding the product up, to nearest (half away from zero or half to even)
// and down do not all agree, so that each other rule fails one of them; the
// last pins the float64 product itself: 0.07*100 is 7.000000000000001.
func TestTrainTestSplitSizes(t *testing.T) {
	for _, tc := range []struct {
		n           int
		testSize    float64
		train, test int
	}{
		{10, 0.33, 6, 4},  // 3.3: round and floor give 3
		{10, 0.37, 6, 4},  // 3.7: floor gives 3
		{10, 0.25, 7, 3},  // 2.5: floor and round-half-to-even give 2
		{9, 0.5, 4, 5},    // 4.5: floor and round-half-to-even give 4
		{7, 0.6, 2, 5},    // 4.2: round and floor give 4
		{3, 0.1, 2, 1},    // 0.30000000000000004: round and floor give 0
		{28, 0.29, 19, 9}, // 8.12: round and floor give 8
		{60000, 0.2, 48000, 12000},
		{100, 0.07, 92, 8}, // 7.000000000000001: ceil of the exact 7 gives 7
	} {
		train, test, err := TrainTestSplitE(tc.n, tc.testSize, 42)
		if err != nil || len(train) != tc.train || len(test) != tc.test {
			t.Errorf("TrainTestSplit(%d, %v): %d train / %d test (%v), want %d / %d (scikit-learn: n_test = ceil(%v*%d))",
				tc.n, tc.testSize, len(train), len(test), err, tc.train, tc.test, tc.testSize, tc.n)
		}
	}
	// The sizes cut the one permutation: test is its head.
	train, test := TrainTestSplit(10, 0.33, 42)
	if !slices.Equal(test, []int{8, 1, 5, 0}) || !slices.Equal(train, []int{7, 2, 9, 4, 3, 6}) {
		t.Errorf("TrainTestSplit(10, 0.33): train %v test %v, want [7 2 9 4 3 6] [8 1 5 0]", train, test)
	}
}

func TestTrainTestSplitInvalid(t *testing.T) {
	for _, tc := range []struct {
		n    int
		size float64
		want string
	}{
		{-1, 0.2, "n = -1"},
		{10, 0, "testSize"},
		{10, 1, "testSize"},
		{10, -0.5, "testSize"},
		{10, 1.5, "testSize"},
		{10, 0.95, "leaves 0 train"},
		{1, 0.5, "leaves 0 train"},
	} {
		_, _, err := TrainTestSplitE(tc.n, tc.size, 42)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("n=%d testSize=%v: %v, want error containing %q", tc.n, tc.size, err, tc.want)
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("n=%d testSize=%v: TrainTestSplit did not panic", tc.n, tc.size)
				}
			}()
			TrainTestSplit(tc.n, tc.size, 42)
		}()
	}
	if train, test, err := TrainTestSplitE(0, 0.2, 42); err != nil || len(train) != 0 || len(test) != 0 {
		t.Errorf("n=0: %v %v %v", train, test, err)
	}
	// NaN is not in (0, 1).
	nan := 0.0
	nan /= nan
	if _, _, err := TrainTestSplitE(10, nan, 42); err == nil {
		t.Error("testSize NaN accepted")
	}
}

// Bounds above 32 bits take NumPy's 64-bit path; its results must stay in
// range and cover both halves of the range.
func TestRandomStateInterval64(t *testing.T) {
	r := NewRandomState(7)
	const max = 1<<40 + 12345
	var lo, hi bool
	for range 1000 {
		v := r.Interval(max)
		if v > max {
			t.Fatalf("Interval(%d) = %d", uint64(max), v)
		}
		lo = lo || v < max/2
		hi = hi || v >= max/2
	}
	if !lo || !hi {
		t.Error("Interval(2^40+12345) never reached one half of its range")
	}
	if r.Interval(0) != 0 {
		t.Error("Interval(0) != 0")
	}
}

func BenchmarkTrainTestSplit(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		TrainTestSplit(60000, 0.2, 42)
	}
}
