package kernels

import "math"

// This file holds the scalar float32 exponential and the functions built
// on it. The algorithm is the one the vector levels implement lane by
// lane, so it avoids anything a SIMD unit lacks: no table lookups, no
// float-to-int conversion with undefined overflow, and on the main path no
// branch that a lane mask could not replace.
//
// exp(x) = 2ⁿ·exp(r), with n = round(x·log₂e) and r = x − n·ln2 in
// [−ln2/2, ln2/2]. The product n·ln2 is subtracted in two parts
// (Cody–Waite): ln2Hi has only 9 significant bits, so n·ln2Hi and
// x − n·ln2Hi are exact for every n this function meets, and ln2Lo carries
// the rest of ln2. exp(r) is 1 + r + r²·q(r) with q a degree-4 minimax fit
// of (exp(r) − 1 − r)/r² for relative error (3.1e-9 before rounding, a
// twentieth of a float32 ulp); the constraint p(0) = 1 makes exp(0) = 1
// exactly, so the largest element of a softmax row is exactly 1 before
// normalisation. The evaluation order 1 + (r + r²·q) keeps the two last,
// largest roundings apart, which measured better than plain Horner.
//
// 2ⁿ is applied as two factors 2^(n>>1)·2^(n−n>>1), built from exponent
// bits: n reaches 129 near the overflow threshold, where a single 2ⁿ would
// not be representable. Overflow to +Inf then happens in the last multiply
// with no special case.
//
// Results below the smallest normal float32 (x below about −87.34) are
// flushed to 0. Subnormal numbers cost a microcode assist per operation on
// many x86 cores, and activations and probabilities flow straight into
// the next GEMM; an exact 0 costs nothing and is within 2⁻¹²⁶ of the truth.
//
// Every product that feeds an addition is rounded explicitly with
// float32(…) so that the arm64 compiler cannot fuse it into an FMA: the
// generic level gives the same bits on every architecture.

const (
	expLog2e = 1.44269504088896341

	// ln2 = expLn2Hi + expLn2Lo; expLn2Hi = 355/512.
	expLn2Hi = 0.693359375
	expLn2Lo = -2.1219444005469058e-4

	// Adding 1.5·2²³ rounds a float32 of magnitude below 2²² to the
	// nearest integer (ties to even), which then sits in the low mantissa
	// bits of the sum.
	expRoundMagic = 12582912

	// Inputs are clamped to [expMinArg, expMaxArg] only to keep n small;
	// every input outside already gives 0 or +Inf.
	expMinArg = -88
	expMaxArg = 89

	expC2 = 0.499999935
	expC3 = 0.166665207
	expC4 = 0.0416683874
	expC5 = 0.00836870982
	expC6 = 0.00138146132

	minNormal32 = 0x1p-126
)

// exp32 returns e^x within 1 ulp of the correctly rounded value whenever
// that value is a normal float32 (checked for every float32 input by
// TestExp32Exhaustive). Results below 2⁻¹²⁶ are 0, x ≥ 88.72283935546875
// gives +Inf, NaN gives NaN.
func exp32(x float32) float32 {
	if x > expMaxArg {
		x = expMaxArg
	}
	if x < expMinArg {
		x = expMinArg
	}
	t := float32(x*expLog2e) + expRoundMagic
	n := t - expRoundMagic
	k := int32(math.Float32bits(t) - math.Float32bits(expRoundMagic))

	r := x - float32(n*expLn2Hi)
	r -= float32(n * expLn2Lo)

	q := float32(expC6)
	q = float32(q*r) + expC5
	q = float32(q*r) + expC4
	q = float32(q*r) + expC3
	q = float32(q*r) + expC2
	p := float32(float32(r*r)*q) + r
	p++

	k1 := k >> 1
	k2 := k - k1
	// For NaN, k is meaningless but the factors are still plain floats, so
	// NaN·factor stays NaN.
	y := p * math.Float32frombits(uint32(k1+127)<<23) * math.Float32frombits(uint32(k2+127)<<23)
	if y < minNormal32 {
		y = 0
	}
	return y
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

// sigmoid32 returns 1/(1+e^−x) within 2 ulp (TestScalarExhaustive).
// Working with e = exp(−|x|) ≤ 1 means nothing overflows: for x ≥ 0 the
// result is 1/(1+e), for x < 0 it is e/(1+e), so large negative inputs
// keep their full relative precision instead of being 1 − (almost 1).
//
// The numerator is chosen by the sign bit, as the vector code's blend
// does, rather than by a branch on data whose sign is random.
func sigmoid32(x float32) float32 {
	e := exp32(-abs32(x))
	neg := uint32(int32(math.Float32bits(x)) >> 31) // all ones when the sign is set
	num := math.Float32frombits(math.Float32bits(e)&neg | math.Float32bits(1)&^neg)
	return num / (1 + e) // −0 gives e/(1+e) = 1/2 too; NaN stays NaN
}

// tanhSmall is where tanh32 switches from its polynomial to the exp form.
// Below it 1 − 2/(e^{2|x|}+1) would cancel badly (near 0 it loses all
// relative precision); at 0.625, tanh is 0.55 and the cancellation costs
// less than one bit.
const tanhSmall = 0.625

// tanh(x) = x + x³·P(x²) on |x| < tanhSmall: P is a degree-4 minimax fit
// for relative error (4.4e-9 before rounding).
const (
	tanhT3  = -0.333332819
	tanhT5  = 0.133314422
	tanhT7  = -0.0537397151
	tanhT9  = 0.0206390874
	tanhT11 = -0.00570498713
)

// tanh32 returns tanh(x) within 1 ulp (TestScalarExhaustive). The sign is
// copied from x, so tanh(−0) = −0 and tanh(±Inf) = ±1.
func tanh32(x float32) float32 {
	a := abs32(x)
	var t float32
	if a < tanhSmall {
		a2 := a * a
		p := float32(tanhT11)
		p = float32(p*a2) + tanhT9
		p = float32(p*a2) + tanhT7
		p = float32(p*a2) + tanhT5
		p = float32(p*a2) + tanhT3
		t = a + float32(float32(a*a2)*p)
	} else {
		// e is +Inf from |x| ≈ 44.4 on, and 2/Inf = 0 gives exactly 1.
		e := exp32(a + a)
		t = 1 - 2/(e+1)
	}
	// Both forms work on |x|, so the sign (of −0 too) is simply copied.
	return math.Float32frombits(math.Float32bits(t) | math.Float32bits(x)&(1<<31))
}
