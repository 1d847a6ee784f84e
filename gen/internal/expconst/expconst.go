// Package expconst holds, once for every emitter in gen, the constants of
// the scalar exponential and tanh of package kernels (kernels/ref_exp.go,
// where the algorithm and the reasons for each value are explained). The
// vector kernels are bit-identical to that reference only while these
// values are the same, which expconst_test.go checks against the file
// itself.
package expconst

// The exponential: clamp, Cody–Waite reduction, degree-6 polynomial, 2ⁿ
// from exponent bits, flush below the smallest normal.
const (
	Log2e      = 1.44269504088896341
	Ln2Hi      = 0.693359375
	Ln2Lo      = -2.1219444005469058e-4
	RoundMagic = 12582912
	MinArg     = -88
	MaxArg     = 89
	C2         = 0.499999935
	C3         = 0.166665207
	C4         = 0.0416683874
	C5         = 0.00836870982
	C6         = 0.00138146132
	MinNormal  = 0x1p-126
)

// tanh: the polynomial x + x³·P(x²) below Small, the exp form above.
const (
	TanhSmall = 0.625
	TanhT3    = -0.333332819
	TanhT5    = 0.133314422
	TanhT7    = -0.0537397151
	TanhT9    = 0.0206390874
	TanhT11   = -0.00570498713
)
