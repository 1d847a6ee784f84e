package kernels

import (
	"fmt"
	"math"

	"github.com/simdmlp/simdmlp/internal/freelist"
)

// The int8 inference path: a Dense layer's kernel quantized to int8 once
// (Int8Weights), its input quantized to uint8 per row at run time, the
// products summed exactly in int32, and the bias, the scales and the
// activation applied in float32 (DenseInt8).
//
// Why uint8 activations and int8 weights: the x86 dot-product instruction
// (VPDPBUSD, AVX512-VNNI and AVX-VNNI) multiplies unsigned by signed
// bytes, and an activation row quantized asymmetrically (with a zero
// point) spends all 256 codes on the row's range, which for the outputs of
// ReLU and for pixels is [0, max] — a symmetric int8 code would waste half
// of them on negative values that never occur. Weights are centred on
// zero, so a symmetric code per output unit (no zero point) loses nothing
// and keeps the inner loop a plain dot product. Levels whose instruction
// multiplies signed by signed bytes (arm64's SDOT) flip the activations'
// top bit (a−128) and add 128·Σw back, which is exact.
//
// The integer sums are exact, so every level gives the same bits as the
// reference, whatever the order it sums in: the float32 steps around them
// are fixed below, operation by operation, and every level performs them
// in the same order with the same IEEE roundings, never fused.

// MaxInt8Inputs bounds the inputs of a quantized layer: with codes of up
// to 255 and weights of up to 127 in magnitude, a sum over at most 65536
// inputs, zero point removed, stays inside int32 (65536·255·127 < 2³¹).
const MaxInt8Inputs = 1 << 16

// int8Group is the number of consecutive inputs one 32-bit lane of the
// dot-product instructions sums, and int8Cols the column padding of the
// packed weights (one zmm of 32-bit sums).
const (
	int8Group = 4
	int8Cols  = 16
)

// Int8Weights is a Dense layer's in×units kernel quantized to int8,
// symmetrically, with one scale per output unit (column):
//
//	Scale[j] = max_k |w[k][j]| / 127      (float32 division)
//	q[k][j]  = round(w[k][j] / Scale[j])  (to nearest, ties to even)
//
// so that w[k][j] ≈ q[k][j]·Scale[j] with |q| ≤ 127. A column of zeros has
// scale 0 and codes 0. It also holds the codes packed for the int8
// kernels and their column sums. It is immutable once made and safe for
// concurrent use.
type Int8Weights struct {
	in, units int
	scale     []float32
	q         []int8  // in×units, row-major
	colSum    []int32 // Σ_k q[k][j]
	// packed holds the codes in the layout every level's kernel reads:
	// groups of int8Group consecutive inputs, each group a row of
	// roundUp(units, int8Cols) columns of int8Group bytes
	// (packed[(g·np + j)·4 + r] = q[4g+r][j]), zero past in and units.
	// One 64-byte load then gives 16 columns × 4 inputs, as VPDPBUSD
	// on a zmm wants, and 16 bytes give 4 × 4 as SDOT wants.
	packed []int8
	// tail holds the last units mod 16 columns (nt of them, from column
	// nm = units − nt) again, for the AVX-512 kernel, which then reads
	// only the full 16-column vectors of packed: a zmm covers 4 of these
	// columns × 4 groups of inputs, so the partial vector that would cost
	// a whole VPDPBUSD (and a cache line) per group costs a quarter of
	// one. Vector t of block b (tv = ceil(nt/4) vectors per block of 4
	// groups) has, in lane l, the 4 codes of column nm + 4t + l/4 for
	// the inputs of group 4b + l%4 — the lanes a 16-byte broadcast of the
	// block's codes meets; zero past in and units. Empty when units is a
	// multiple of 16.
	tail []int8
}

// QuantizeWeights quantizes the in×units row-major kernel w (leading
// dimension units) as Int8Weights describes. w must be finite; a bad
// argument panics with a message naming it.
func QuantizeWeights(w []float32, in, units int) *Int8Weights {
	const fn = "QuantizeWeights"
	checkInt8Shape(fn, in, units)
	checkLen(fn, "w", len(w), in*units)
	scale := make([]float32, units)
	for k := range in {
		for j, v := range w[k*units : (k+1)*units] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				panic(fmt.Sprintf("kernels: %s: w[%d] = %v is not finite", fn, k*units+j, v))
			}
			scale[j] = max(scale[j], float32(math.Abs(float64(v))))
		}
	}
	for j := range scale {
		scale[j] /= 127
	}
	q := make([]int8, in*units)
	for k := range in {
		for j, v := range w[k*units : (k+1)*units] {
			if scale[j] == 0 {
				continue
			}
			r := math.RoundToEven(float64(v / scale[j]))
			q[k*units+j] = int8(max(-127, min(127, r)))
		}
	}
	return newInt8Weights(q, scale, in, units)
}

// NewInt8Weights makes Int8Weights from codes and scales already
// quantized (as a saved model holds them): q is in×units row-major, scale
// has one value per unit. It checks what a file could get wrong — the
// shape, the lengths, codes of -128 (outside the symmetric range) and
// scales that are negative or not finite — and copies both slices.
func NewInt8Weights(q []int8, scale []float32, in, units int) (*Int8Weights, error) {
	if in < 1 || units < 1 || in > MaxInt8Inputs || units > math.MaxInt32/in {
		return nil, fmt.Errorf("kernels: NewInt8Weights: shape %d×%d: need 1 ≤ in ≤ %d and 1 ≤ units", in, units, MaxInt8Inputs)
	}
	if len(q) != in*units {
		return nil, fmt.Errorf("kernels: NewInt8Weights: %d codes for a %d×%d kernel, want %d", len(q), in, units, in*units)
	}
	if len(scale) != units {
		return nil, fmt.Errorf("kernels: NewInt8Weights: %d scales for %d units", len(scale), units)
	}
	for i, v := range q {
		if v == math.MinInt8 {
			return nil, fmt.Errorf("kernels: NewInt8Weights: code [%d] (input %d, unit %d) is -128, outside the symmetric range [-127, 127]", i, i/units, i%units)
		}
	}
	for j, s := range scale {
		if !(s >= 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("kernels: NewInt8Weights: scale [%d] = %v, need a finite value ≥ 0", j, s)
		}
	}
	return newInt8Weights(append([]int8(nil), q...), append([]float32(nil), scale...), in, units), nil
}

// newInt8Weights computes the column sums and the packed codes; q and
// scale are the object's own.
func newInt8Weights(q []int8, scale []float32, in, units int) *Int8Weights {
	w := &Int8Weights{in: in, units: units, scale: scale, q: q, colSum: make([]int32, units)}
	np := roundUp(units, int8Cols)
	w.packed = make([]int8, ceilDiv(in, int8Group)*np*int8Group)
	nm := units &^ (int8Cols - 1)
	tv := ceilDiv(units-nm, 4)
	if tv > 0 {
		w.tail = make([]int8, ceilDiv(in, 4*int8Group)*tv*64)
	}
	for k := range in {
		g, r := k/int8Group, k%int8Group
		for j, v := range q[k*units : (k+1)*units] {
			w.colSum[j] += int32(v)
			w.packed[(g*np+j)*int8Group+r] = v
			if j >= nm {
				t, l := (j-nm)/4, (j-nm)%4*4+g%4
				w.tail[((g/4*tv+t)*16+l)*int8Group+r] = v
			}
		}
	}
	return w
}

// In returns the number of inputs (rows of the kernel).
func (w *Int8Weights) In() int { return w.in }

// Units returns the number of output units (columns of the kernel).
func (w *Int8Weights) Units() int { return w.units }

// Scales returns a copy of the per-unit scales.
func (w *Int8Weights) Scales() []float32 { return append([]float32(nil), w.scale...) }

// Codes returns a copy of the in×units codes, row-major.
func (w *Int8Weights) Codes() []int8 { return append([]int8(nil), w.q...) }

// Dequantized returns the in×units float32 kernel the codes stand for,
// q[k][j]·Scale[j].
func (w *Int8Weights) Dequantized() []float32 {
	out := make([]float32, len(w.q))
	for i, v := range w.q {
		out[i] = float32(v) * w.scale[i%w.units]
	}
	return out
}

func checkInt8Shape(fn string, in, units int) {
	if in < 1 || in > MaxInt8Inputs {
		panic(fmt.Sprintf("kernels: %s: in = %d, need 1 ≤ in ≤ %d", fn, in, MaxInt8Inputs))
	}
	if units < 1 || units > math.MaxInt32/in {
		panic(fmt.Sprintf("kernels: %s: units = %d, need 1 ≤ units ≤ %d", fn, units, math.MaxInt32/in))
	}
}

// DenseInt8 is the forward pass of a quantized dense layer on m rows of x
// (m×w.In(), leading dimension ldx ≥ w.In()), written to y (m×w.Units(),
// ldy ≥ w.Units()):
//
//	y = act(x̂·q·Scale + bias)
//
// Each row of x is quantized to uint8 on its own (see QuantizeRowsU8),
// its codes multiplied by the weights' codes and summed exactly in int32,
// and then, per element, in float32 and in this order:
//
//	t = float32(acc − zero·colSum[j])   (int32, then rounded to float32)
//	c = scale·Scale[j]                  (rounded)
//	y = t·c + bias[j]                   (the product rounded, then the sum)
//
// after which act is applied to the row as ApplyActivation would. Every
// kernel level gives the same bits. It reports whether x was finite: a
// row holding a NaN or ±Inf is found by the quantizer's pass over it (so
// a caller need not read x once more to check it), and makes DenseInt8
// return false with that row of y unspecified. y must not overlap x. It
// may prefetch (never read) x past its m rows: a caller that runs a long
// x in several calls passes x from the first row of each to its end, so
// that every call's first rows are already on their way to the cache. A bad
// argument panics with a message naming it; m == 0 returns true at once.
// It takes its workspace from a free list, so once warmed up it allocates
// nothing, and it is safe for concurrent use; Int8Scratch.DenseInt8 is
// the same with a workspace the caller keeps.
//
// Its time, not its result, depends on x's values: the amd64 products and
// the generic one skip, for one row (a single prediction, or the rows
// left over after tiles of four or two), the weights of each group of 4
// inputs whose codes are all zero — an image's background, runs of ReLU's
// zeros — as they add nothing to the exact sums (one sample of the
// tutorial's model on real Fashion-MNIST images on avx512: 825 → 671 ns,
// bench/README.md).
func DenseInt8(act Activation, m int, x []float32, ldx int, w *Int8Weights, bias []float32, y []float32, ldy int) bool {
	s := int8Scratches.Get()
	ok := s.dense("DenseInt8", act, m, x, ldx, w, bias, y, ldy)
	int8Scratches.Put(s)
	return ok
}

// Int8Scratch is the workspace of DenseInt8: a block of rows' codes, their
// scales and the list of a row's groups of codes that are not all zero,
// grown to the largest call and reused. An embedding that
// already keeps a workspace per concurrent caller (as mlp's Predictor
// does) holds one of these in it and skips the shared free list's lock.
// The zero value is ready to use; it is not safe for concurrent use.
type Int8Scratch struct {
	q     []uint8
	scale []float32
	zero  []int32
	// nz is where a level lists a row's groups of codes that are not all
	// zero (the int8Dense hook's nz).
	nz []int32
}

// DenseInt8 is the package's DenseInt8, with s as its workspace.
func (s *Int8Scratch) DenseInt8(act Activation, m int, x []float32, ldx int, w *Int8Weights, bias []float32, y []float32, ldy int) bool {
	return s.dense("Int8Scratch.DenseInt8", act, m, x, ldx, w, bias, y, ldy)
}

func (s *Int8Scratch) dense(fn string, act Activation, m int, x []float32, ldx int, w *Int8Weights, bias []float32, y []float32, ldy int) bool {
	if w == nil {
		panic("kernels: " + fn + ": nil weights")
	}
	checkDim(fn, "m", m)
	checkLd(fn, "ldx", ldx, w.in, "w.In()")
	checkLd(fn, "ldy", ldy, w.units, "w.Units()")
	mustActivation(fn, act)
	if m == 0 {
		return true
	}
	checkLen(fn, "x", len(x), matrixLen(fn, m, w.in, ldx))
	checkLen(fn, "bias", len(bias), w.units)
	checkLen(fn, "y", len(y), matrixLen(fn, m, w.units, ldy))
	l := active
	// Rows of whole blocks of 4 groups, for the AVX-512 kernel's tail
	// columns; the quantizer zeroes the codes past w.in.
	kp := roundUp(w.in, 4*int8Group)
	// The rows go through in blocks, so that the codes of a block stay in
	// L1 while the weights stream past them.
	const block = 32
	s.grow(min(m, block), kp, ceilDiv(w.in, int8Group)+16)
	finite := true
	for lo := 0; lo < m; lo += block {
		rows := min(block, m-lo)
		l.quantizeRowsU8(s.q, kp, s.scale, s.zero, x[lo*ldx:], ldx, rows, w.in)
		for _, v := range s.scale[:rows] {
			// Only a row that is not finite gets a NaN scale.
			finite = finite && v == v
		}
		yb := y[lo*ldy:]
		// The rows two blocks on, which the product prefetches as it
		// goes: a large x streams from memory during the arithmetic
		// instead of stalling the quantizer's first pass over it. (One
		// block on is too late: the lines are still in flight when the
		// quantizer reaches them.) Rows past m that x still holds are
		// prefetched too, as a caller's next call will want them.
		var pf []float32
		if start := (lo + 2*block) * ldx; start < len(x) {
			pf = x[start:min(len(x), start+(block-1)*ldx+w.in)]
		}
		l.int8Dense(rows, s.q, kp, s.scale, s.zero, w, bias[:w.units], yb, ldy, pf, s.nz)
		applyActivationRows(l, act, rows, w.units, yb, ldy)
	}
	return finite
}

// QuantizeRowsU8 quantizes each of the m rows of x (k values, leading
// dimension ldx) to uint8 codes in q (leading dimension ldq ≥ k) with a
// scale and a zero point of its own, so that x ≈ (q − zero)·scale:
//
//	lo = min(0, min x), hi = max(0, max x)
//	scale = max((hi − lo) / 255, 2⁻¹²⁶)    (float32 division)
//	inv   = 1 / scale
//	zero  = clamp(round(−lo·inv), 0, 255)
//	q     = clamp(round(x·inv) + zero, 0, 255)
//
// rounding to nearest, ties to even; a row of zeros has scale 1 and zero
// point 0. Zero is always exactly a code, so ReLU's zeros stay exact. The
// floor on the scale keeps inv finite for a row of tiny values (below
// about 1e-36), whose codes would otherwise depend on how a CPU converts
// infinity to an integer. Values beyond ±1.7e38 make hi − lo overflow and
// the layer's outputs NaN: far outside what the int8 path is for.
// The codes from k to ldq−1 of each row are set to 0. A row holding a NaN
// or ±Inf gets scale NaN and zero point 0, and its codes are left as they
// were: the check of the input rides along the min/max pass. This is the
// first step of DenseInt8, exported so that it can be tested and timed
// alone.
func QuantizeRowsU8(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int) {
	const fn = "QuantizeRowsU8"
	checkDim(fn, "m", m)
	checkDim(fn, "k", k)
	checkLd(fn, "ldx", ldx, k, "k")
	checkLd(fn, "ldq", ldq, k, "k")
	if m == 0 {
		return
	}
	checkLen(fn, "x", len(x), matrixLen(fn, m, k, ldx))
	checkLen(fn, "q", len(q), m*ldq)
	checkLen(fn, "scale", len(scale), m)
	checkLen(fn, "zero", len(zero), m)
	active.quantizeRowsU8(q, ldq, scale, zero, x, ldx, m, k)
}

var int8Scratches freelist.List[Int8Scratch]

func (s *Int8Scratch) grow(rows, kp, nz int) {
	if len(s.q) < rows*kp {
		s.q = make([]uint8, rows*kp)
	}
	if len(s.nz) < nz {
		s.nz = make([]int32, nz)
	}
	if len(s.scale) < rows {
		s.scale = make([]float32, rows)
		s.zero = make([]int32, rows)
	}
}

// int8AsmArgs checks the arguments of a level's assembly product (the
// int8Dense hook) and returns the number of 4-code groups per row, and
// whether the assembly may run: it reads whole groups, roundUp(w.in, 4)
// codes from each row, or whole blocks of 4 groups, roundUp(w.in, 16),
// when blocks is set and w has tail columns (the codes past w.in meet
// zero weights, so their values do not matter, nor whether they overlap
// the next row's, but they must lie inside a). DenseInt8's scratch rows always qualify; a caller
// whose rows do not gets false and should run refInt8Dense, which reads
// only w.in codes. A slice too short for the call panics here, before any
// assembly sees it.
func int8AsmArgs(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias, y []float32, ldy int, blocks bool, nz []int32) (kg int, ok bool) {
	const fn = "int8Dense"
	kg = ceilDiv(w.in, int8Group)
	if len(nz) > 0 {
		// The list's stores write 16 values at its end.
		checkLen(fn, "nz", len(nz), kg+16)
	}
	checkLen(fn, "scale", len(scale), m)
	checkLen(fn, "zero", len(zero), m)
	checkLen(fn, "bias", len(bias), w.units)
	checkLen(fn, "y", len(y), (m-1)*ldy+w.units)
	read := kg
	if blocks && len(w.tail) > 0 {
		read = roundUp(kg, 4)
	}
	return kg, ldy >= w.units && len(a) >= (m-1)*lda+read*int8Group
}
