package kernels

import "math"

// The fused optimizer updates. Each is Keras 2.14's update_step for one
// dense variable, element by element, with the same operations in the same
// order and every intermediate rounded to float32, as TF's float32 graph
// does. Products that feed an addition are wrapped in float32(…) so the
// arm64 compiler cannot fuse them into an FMA: the results are then the
// exact IEEE float32 values of the Keras formula on every architecture.
// (TF itself may differ in RMSprop's rsqrt, which Eigen approximates.)

// sqrt32 is the correctly rounded float32 square root: a float64 square
// root rounded to float32 is correctly rounded, and the compiler turns this
// pattern into one SQRTSS/FSQRT.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// refSGDStep: m ← −g·η + m·μ; θ ← θ + m, or with Nesterov
// θ ← θ + (−g·η + m·μ) using the new m.
func refSGDStep(theta, m, g []float32, p SGDParams) {
	m = m[:len(theta)]
	g = g[:len(theta)]
	lr, mu := p.LR, p.Momentum
	if p.Nesterov {
		for i := range theta {
			a := float32(-g[i] * lr)
			mi := a + float32(m[i]*mu)
			m[i] = mi
			theta[i] += a + float32(mi*mu)
		}
		return
	}
	for i := range theta {
		mi := float32(-g[i]*lr) + float32(m[i]*mu)
		m[i] = mi
		theta[i] += mi
	}
}

// refAdagradStep: a ← a + g²; θ ← θ − (η·g)/sqrt(a + ε).
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

// refRMSpropStep: v ← ρ·v + (1−ρ)·g²; d = v + ε, or v − ḡ² + ε when
// centered with ḡ ← ρ·ḡ + (1−ρ)·g; inc = (η·g)·(1/sqrt(d)); then θ ← θ − inc,
// or through the momentum buffer.
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
		vi := float32(rho*v[i]) + float32(omr*float32(gi*gi))
		v[i] = vi
		var d float32
		if mg != nil {
			a := float32(rho*mg[i]) + float32(omr*gi)
			mg[i] = a
			d = vi - float32(a*a) + eps
		} else {
			d = vi + eps
		}
		inc := float32(float32(lr*gi) * (1 / sqrt32(d)))
		if mom != nil {
			mi := float32(mu*mom[i]) + inc
			mom[i] = mi
			theta[i] -= mi
		} else {
			theta[i] -= inc
		}
	}
}

// refAdamStep: m ← m + (g − m)·(1−β1); v ← v + (g² − v)·(1−β2);
// v̂ ← max(v̂, v) for AMSGrad; θ ← θ − (m·α)/(sqrt(v or v̂) + ε).
func refAdamStep(theta, m, v, vhat, g []float32, p AdamParams) {
	m = m[:len(theta)]
	v = v[:len(theta)]
	g = g[:len(theta)]
	alpha, omb1, omb2, eps := p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon
	if vhat != nil {
		vhat = vhat[:len(theta)]
		for i := range theta {
			gi := g[i]
			mi := m[i] + float32((gi-m[i])*omb1)
			vi := v[i] + float32((float32(gi*gi)-v[i])*omb2)
			m[i], v[i] = mi, vi
			// Written so that a NaN in v reaches v̂ (and θ) instead of being
			// dropped by the comparison.
			vh := vhat[i]
			if !(vh >= vi) {
				vh = vi
			}
			vhat[i] = vh
			theta[i] -= float32(mi*alpha) / (sqrt32(vh) + eps)
		}
		return
	}
	for i := range theta {
		gi := g[i]
		mi := m[i] + float32((gi-m[i])*omb1)
		vi := v[i] + float32((float32(gi*gi)-v[i])*omb2)
		m[i], v[i] = mi, vi
		theta[i] -= float32(mi*alpha) / (sqrt32(vi) + eps)
	}
}
