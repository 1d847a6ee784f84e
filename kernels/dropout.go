package kernels

import (
	"fmt"
	"math"
)

// DropoutParams selects one Dropout mask: which units are kept and the
// factor they are scaled by. A mask is a pure function of Key0, Key1 and
// each unit's counter, computed where it is used and never stored, so the
// backward pass regenerates exactly the forward's mask, every level and
// every split of the work over threads gives the same bits, and no memory
// holds it.
//
// Unit i of a call has the counter c = Counter + i (mod 2³²). Its hash is
//
//	h = mix(mix(c ^ Key0) ^ Key1)
//	mix(x): x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16
//
// (all uint32 arithmetic; mix is a bijection with good avalanche, so for
// any fixed key the 24 top bits of h are as good as uniform), and the unit
// is kept when h>>8 ≥ Threshold. Threshold = round(rate·2²⁴) drops each
// unit with probability rate to within 2⁻²⁵.
type DropoutParams struct {
	Key0, Key1 uint32
	// Counter is the counter of the first unit of the call; a caller that
	// cuts a matrix into parts passes each part's offset here.
	Counter uint32
	// Threshold is compared with the hash's top 24 bits; at most 2²⁴.
	Threshold uint32
	// Scale multiplies the kept units: float32(1/(1-rate)) for Keras's
	// inverted dropout.
	Scale float32
}

// NewDropoutParams returns the parameters of inverted dropout at the given
// rate with the mask selected by key (Counter 0): Threshold = round(rate·2²⁴),
// at most 2²⁴−1 so that some unit can be kept, and Scale =
// float32(1/(1−rate)) computed in float64 as Keras does. It panics unless
// 0 ≤ rate < 1.
func NewDropoutParams(rate float64, key uint64) DropoutParams {
	if !(rate >= 0 && rate < 1) {
		panic(fmt.Sprintf("kernels: NewDropoutParams: rate %v is not in [0, 1)", rate))
	}
	t := math.Round(rate * (1 << 24))
	if t > 1<<24-1 {
		t = 1<<24 - 1
	}
	return DropoutParams{
		Key0:      uint32(key),
		Key1:      uint32(key >> 32),
		Threshold: uint32(t),
		Scale:     float32(1 / (1 - rate)),
	}
}

// Dropout sets dst[i] = x[i]·Scale where unit i is kept and dst[i] = 0 (+0,
// whatever x[i] is, NaN included) where it is dropped, with the mask of p
// (see DropoutParams). It is both passes of a Dropout layer: called on the
// layer's input it is the forward pass, called with the same p on the
// gradient of the output it gives the gradient of the input. dst may be x.
// Every level gives the same bits.
func Dropout(dst, x []float32, p DropoutParams) {
	checkSame("Dropout", "dst", len(dst), "x", len(x))
	if p.Threshold > 1<<24 {
		panic(fmt.Sprintf("kernels: Dropout: Threshold %d is above 2^24", p.Threshold))
	}
	active.dropout(dst, x, p)
}

// DropoutKeep reports whether unit i (counter p.Counter+i) is kept by the
// mask of p: the mask Dropout applies, for tests and for callers that need
// the mask itself.
func DropoutKeep(p DropoutParams, i int) bool {
	return dropoutHash(p.Key0, p.Key1, p.Counter+uint32(i))>>8 >= p.Threshold
}

// dropoutMix is the 32-bit integer hash of DropoutParams (the "lowbias32"
// constants of Chris Wellons's hash-prospector search).
func dropoutMix(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

func dropoutHash(k0, k1, c uint32) uint32 {
	return dropoutMix(dropoutMix(c^k0) ^ k1)
}

// refDropout is Dropout's reference.
//
// It selects without a branch: a large mask is as good as random, so a
// branch on it is mispredicted about min(rate, 1−rate) of the time, which
// made the reference three times slower per unit on 256×784 than on a
// 32×100 mask the predictor had learnt. keep − Threshold fits in an int32
// (both are at most 2²⁴), and its sign gives an all-ones or all-zeros
// word to and with the scaled value's bits.
func refDropout(dst, x []float32, p DropoutParams) {
	dst = dst[:len(x)]
	c := p.Counter
	for i, v := range x {
		diff := int32(dropoutHash(p.Key0, p.Key1, c)>>8) - int32(p.Threshold)
		keep := ^uint32(diff >> 31)
		dst[i] = math.Float32frombits(math.Float32bits(v*p.Scale) & keep)
		c++
	}
}
