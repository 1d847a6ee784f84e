package mnist

import (
	"fmt"
	"math"
)

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// RandomState is NumPy's legacy numpy.random.RandomState generator
// (MT19937) seeded with an integer, reproducing its output stream exactly:
// the stream that scikit-learn's random_state=seed draws from. It is not
// safe for concurrent use.
type RandomState struct {
	key [mtN]uint32
	pos int
}

// NewRandomState returns the generator numpy.random.RandomState(seed)
// creates. An integer seed goes through MT19937's init_genrand, not the
// init_by_array that CPython's random module uses.
func NewRandomState(seed uint32) *RandomState {
	r := &RandomState{pos: mtN}
	r.key[0] = seed
	for i := 1; i < mtN; i++ {
		prev := r.key[i-1]
		r.key[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return r
}

func (r *RandomState) refill() {
	for i := range mtN {
		y := r.key[i]&mtUpperMask | r.key[(i+1)%mtN]&mtLowerMask
		v := r.key[(i+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		r.key[i] = v
	}
	r.pos = 0
}

// Uint32 returns the next 32-bit output of MT19937.
func (r *RandomState) Uint32() uint32 {
	if r.pos == mtN {
		r.refill()
	}
	y := r.key[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two 32-bit outputs joined, the first as the high half, as
// NumPy's next_uint64 does. NumPy's tomaxint() is Uint64() >> 1.
func (r *RandomState) Uint64() uint64 {
	hi := uint64(r.Uint32())
	return hi<<32 | uint64(r.Uint32())
}

// Float64 returns a uniform float64 in [0, 1) with 53 random bits, as
// random_sample() does.
func (r *RandomState) Float64() float64 {
	a, b := r.Uint32()>>5, r.Uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// Interval returns a uniform integer in [0, max], inclusive, by NumPy's
// masked rejection: draw, mask to the smallest all-ones value ≥ max, retry
// while above max. Bounds that fit 32 bits consume 32-bit draws.
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	mask |= mask >> 32
	if max <= math.MaxUint32 {
		for {
			if v := uint64(r.Uint32()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		if v := r.Uint64() & mask; v <= max {
			return v
		}
	}
}

// Randint returns a uniform integer in [low, high), as the legacy
// randint(low, high) does for one int64 value. It panics if low >= high.
func (r *RandomState) Randint(low, high int64) int64 {
	if low >= high {
		panic(fmt.Sprintf("mnist: Randint: low %d >= high %d", low, high))
	}
	return low + int64(r.Interval(uint64(high)-uint64(low)-1))
}

// Permutation returns a random permutation of 0..n-1, as the legacy
// permutation(n) does: Fisher–Yates from the top over arange(n). It panics
// if n < 0.
func (r *RandomState) Permutation(n int) []int {
	if n < 0 {
		panic(fmt.Sprintf("mnist: Permutation: n = %d < 0", n))
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(r.Interval(uint64(i)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// TrainTestSplit returns the row indices that scikit-learn's
// train_test_split(X, y, test_size=testSize, random_state=seed) selects for
// n rows, bit for bit: n_test = ceil(testSize*n), the permutation comes from
// RandomState(seed).Permutation(n), test is its first n_test entries and
// train the rest. Neither part is sorted; both keep the permutation's order,
// as scikit-learn does. Gather the rows with GatherRows.
//
// It panics on arguments scikit-learn rejects: n < 0, testSize not strictly
// between 0 and 1, or a split that leaves the train or the test part empty
// when n > 0. TrainTestSplitE returns those as errors.
func TrainTestSplit(n int, testSize float64, seed uint32) (train, test []int) {
	train, test, err := TrainTestSplitE(n, testSize, seed)
	if err != nil {
		panic(err.Error())
	}
	return train, test
}

// TrainTestSplitE is TrainTestSplit returning an error instead of panicking
// on invalid arguments. n == 0 gives two empty parts.
func TrainTestSplitE(n int, testSize float64, seed uint32) (train, test []int, err error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("mnist: TrainTestSplit: n = %d < 0", n)
	}
	if !(testSize > 0 && testSize < 1) {
		return nil, nil, fmt.Errorf("mnist: TrainTestSplit: testSize = %v, must be in (0, 1)", testSize)
	}
	nTest := int(math.Ceil(testSize * float64(n)))
	nTrain := n - nTest
	if n > 0 && (nTest == 0 || nTrain == 0) {
		return nil, nil, fmt.Errorf("mnist: TrainTestSplit: n = %d with testSize = %v leaves %d train and %d test rows; both must be non-empty", n, testSize, nTrain, nTest)
	}
	perm := NewRandomState(seed).Permutation(n)
	// The parts share one array; the capped test slice keeps an append to
	// it from overwriting train.
	return perm[nTest:], perm[:nTest:nTest], nil
}
