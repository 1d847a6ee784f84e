package kernels

import "math"

// The fused optimizer updates. Each is Keras 2.14's update_step for one
// dense variable, element by element, with the same operations in the same
// order and every intermediate rounded to float32, as TF's float32 graph
// does. Products that feed an addition are wrapped in float32(…) so the
// arm64 compiler cannot fuse them into an FMA: the results are then the
// exact IEEE float32 values of the Keras formula on every architecture.
// (TF itself may differ in RMSprop's rsqrt, which Eigen approximates.)
//
// One rule departs from plain IEEE arithmetic: every slot that decays
// (SGD's m, RMSprop's v, mom and ḡ, Adam's m, v and v̂) is stored through
// flushSlot, and the rest of the step uses that flushed value. See
// flushSlot for why; Adagrad's accumulator only grows and is stored as
// computed.

// sqrt32 is the correctly rounded float32 square root: a float64 square
// root rounded to float32 is correctly rounded, and the compiler turns this
// pattern into one SQRTSS/FSQRT.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// slotFloorBits is the bit pattern of 2⁻⁹⁵, the smallest magnitude a
// decaying slot keeps (see flushSlot).
const slotFloorBits = 0x10000000

// flushSlot returns x, or +0 when |x| < 2⁻⁹⁵: a subnormal of either sign,
// −0 and every value below 2⁻⁹⁵ in magnitude become +0, while NaN, ±Inf
// and every value from 2⁻⁹⁵ up are kept. The optimizers store each
// decaying slot through it. A slot whose gradient stays zero (a dead ReLU
// unit, a pixel that is 0 in every batch) decays geometrically (Adam's m by
// β1 a step), and every operation with a subnormal result costs a microcode
// assist on AMD cores: the fused Adam step ran three times slower over
// subnormal slots. Flushing below 2⁻¹²⁶ alone kept the slots normal but not
// the next step's products with them: Adam's (g − m)·(1 − β1) with g = 0 is
// subnormal for m below 10·2⁻¹²⁶, m·α for m below 1000·2⁻¹²⁶ and
// (g² − v)·(1 − β2) for v below 1000·2⁻¹²⁶, windows a decaying m crosses in
// tens of steps and v in thousands, which cost Adam on the tutorial's first
// layer a third of its time on real images. From 2⁻⁹⁵ up, a slot's product
// with any factor of at least 2⁻³¹ (every 1 − β of a float32 β < 1, which
// is at least 2⁻²⁴, and any rate from 5e-10 up) is normal; and on the bits
// the rule is one test of the exponent's three high bits, which the
// AVX-512 kernels do in one instruction. TensorFlow, and so Keras, runs on
// CPU with flush-to-zero and denormals-are-zero and never stores a
// subnormal slot either; its exact rounding at the threshold cannot be had
// on every ISA (x86 detects tininess after rounding, arm64 before), so the
// rule is this plain comparison of the stored value, which every level
// applies with the same bits (on the magnitude's bits: |x| < 2⁻⁹⁵ exactly
// when they are below 2⁻⁹⁵'s, and a NaN's are above). A slot below
// 2⁻⁹⁵ ≈ 2.5e-29 would move a weight by at most that much (SGD's and
// RMSprop's momentum) or, through Adam's m/(sqrt(v) + ε) with ε = 1e-7,
// by less than 3e-22 times the rate (see SGDParams).
func flushSlot(x float32) float32 {
	if math.Float32bits(x)&0x7fffffff < slotFloorBits {
		return 0
	}
	return x
}

// refSGDStep: m ← flush(−g·η + m·μ); θ ← θ + m, or with Nesterov
// θ ← θ + (−g·η + m·μ) using the new (flushed) m.
func refSGDStep(theta, m, g []float32, p SGDParams) {
	m = m[:len(theta)]
	g = g[:len(theta)]
	lr, mu := p.LR, p.Momentum
	if p.Nesterov {
		for i := range theta {
			a := float32(-g[i] * lr)
			mi := flushSlot(a + float32(m[i]*mu))
			m[i] = mi
			theta[i] += a + float32(mi*mu)
		}
		return
	}
	for i := range theta {
		mi := flushSlot(float32(-g[i]*lr) + float32(m[i]*mu))
		m[i] = mi
		theta[i] += mi
	}
}

// refAdagradStep: a ← a + g²; θ ← θ − (η·g)/sqrt(a + ε). The accumulator
// is not flushed: it never decays (g² ≥ 0 is added to an initial value
// that Keras sets to 0.1), so a training run does not drift into the
// subnormal range as the decaying slots do, and Adagrad keeps the plain
// IEEE result.
func refAdagradStep(theta, acc, g []float32, p AdagradParams) {
	acc = acc[:len(theta)]
	g = g[:len(theta)]
	lr, eps := p.LR, p.Epsilon
	for i := range theta {
		gi := g[i]
		a := acc[i] + float32(gi*gi)
		acc[i] = a
		theta[i] -= float32(lr*gi) / sqrt32(a+eps)
	}
}

// refRMSpropStep: v ← flush(ρ·v + (1−ρ)·g²); d = v + ε, or v − ḡ² + ε
// when centered with ḡ ← flush(ρ·ḡ + (1−ρ)·g); inc = (η·g)·(1/sqrt(d));
// then θ ← θ − inc, or through the momentum buffer
// mom ← flush(μ·mom + inc); θ ← θ − mom.
func refRMSpropStep(theta, v, mom, mg, g []float32, p RMSpropParams) {
	v = v[:len(theta)]
	g = g[:len(theta)]
	if mom != nil {
		mom = mom[:len(theta)]
	}
	if mg != nil {
		mg = mg[:len(theta)]
	}
	lr, rho, omr, mu, eps := p.LR, p.Rho, p.OneMinusRho, p.Momentum, p.Epsilon
	for i := range theta {
		gi := g[i]
		vi := flushSlot(float32(rho*v[i]) + float32(omr*float32(gi*gi)))
		v[i] = vi
		var d float32
		if mg != nil {
			a := flushSlot(float32(rho*mg[i]) + float32(omr*gi))
			mg[i] = a
			d = vi - float32(a*a) + eps
		} else {
			d = vi + eps
		}
		inc := float32(float32(lr*gi) * (1 / sqrt32(d)))
		if mom != nil {
			mi := flushSlot(float32(mu*mom[i]) + inc)
			mom[i] = mi
			theta[i] -= mi
		} else {
			theta[i] -= inc
		}
	}
}

// refAdamStep: m ← flush(m + (g − m)·(1−β1)); v ← flush(v + (g² − v)·(1−β2));
// v̂ ← flush(max(v̂, v)) for AMSGrad; θ ← θ − (m·α)/(sqrt(v or v̂) + ε). v̂ is
// flushed too, although the maximum of flushed values never needs it,
// so that no stored slot is subnormal even after a state that was loaded
// with one.
func refAdamStep(theta, m, v, vhat, g []float32, p AdamParams) {
	m = m[:len(theta)]
	v = v[:len(theta)]
	g = g[:len(theta)]
	alpha, omb1, omb2, eps := p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon
	if vhat != nil {
		vhat = vhat[:len(theta)]
		for i := range theta {
			gi := g[i]
			mi := flushSlot(m[i] + float32((gi-m[i])*omb1))
			vi := flushSlot(v[i] + float32((float32(gi*gi)-v[i])*omb2))
			m[i], v[i] = mi, vi
			// Written so that a NaN in v reaches v̂ (and θ) instead of being
			// dropped by the comparison.
			vh := vhat[i]
			if !(vh >= vi) {
				vh = vi
			}
			vh = flushSlot(vh)
			vhat[i] = vh
			theta[i] -= float32(mi*alpha) / (sqrt32(vh) + eps)
		}
		return
	}
	for i := range theta {
		gi := g[i]
		mi := flushSlot(m[i] + float32((gi-m[i])*omb1))
		vi := flushSlot(v[i] + float32((float32(gi*gi)-v[i])*omb2))
		m[i], v[i] = mi, vi
		theta[i] -= float32(mi*alpha) / (sqrt32(vi) + eps)
	}
}
