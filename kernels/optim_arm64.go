//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// The NEON optimizer steps and reductions. The assembly covers whole
// vectors (whole 32-element blocks for SumSquares); the tail runs through
// the reference on the remaining elements, which is bit-identical because
// every element's update is independent and the assembly does the
// reference's operations lane by lane. Each wrapper reslices every buffer
// to len(theta) first, so a short slice panics in Go instead of being
// overrun (the exported entry points have already checked).

// optimNEON installs the NEON optimizer steps and reductions into l.
func optimNEON(l *impl) {
	l.sgdStep = func(theta, m, g []float32, p SGDParams) {
		n := len(theta)
		m, g = m[:n], g[:n]
		if n4 := n &^ 3; n4 > 0 {
			// −LR is exact, and (−g)·LR = g·(−LR) in every rounding.
			if p.Nesterov {
				asm.SGDNesterovStepNEON(theta[:n4], m[:n4], g[:n4], -p.LR, p.Momentum)
			} else {
				asm.SGDStepNEON(theta[:n4], m[:n4], g[:n4], -p.LR, p.Momentum)
			}
			theta, m, g = theta[n4:], m[n4:], g[n4:]
		}
		refSGDStep(theta, m, g, p)
	}
	l.adagradStep = func(theta, acc, g []float32, p AdagradParams) {
		n := len(theta)
		acc, g = acc[:n], g[:n]
		if n4 := n &^ 3; n4 > 0 {
			asm.AdagradStepNEON(theta[:n4], acc[:n4], g[:n4], p.LR, p.Epsilon)
			theta, acc, g = theta[n4:], acc[n4:], g[n4:]
		}
		refAdagradStep(theta, acc, g, p)
	}
	// As in the reference, a nil buffer (not the parameters) selects the
	// variant: the exported RMSpropStep passes nil for the unused ones.
	l.rmspropStep = func(theta, v, mom, mg, g []float32, p RMSpropParams) {
		n := len(theta)
		v, g = v[:n], g[:n]
		if mom != nil {
			mom = mom[:n]
		}
		if mg != nil {
			mg = mg[:n]
		}
		if n4 := n &^ 3; n4 > 0 {
			switch {
			case mom == nil && mg == nil:
				asm.RMSpropStepNEON(theta[:n4], v[:n4], g[:n4], p.LR, p.Rho, p.OneMinusRho, p.Epsilon)
			case mom == nil:
				asm.RMSpropCenteredStepNEON(theta[:n4], v[:n4], mg[:n4], g[:n4], p.LR, p.Rho, p.OneMinusRho, p.Epsilon)
			case mg == nil:
				asm.RMSpropMomentumStepNEON(theta[:n4], v[:n4], mom[:n4], g[:n4], p.LR, p.Rho, p.OneMinusRho, p.Momentum, p.Epsilon)
			default:
				asm.RMSpropMomentumCenteredStepNEON(theta[:n4], v[:n4], mom[:n4], mg[:n4], g[:n4], p.LR, p.Rho, p.OneMinusRho, p.Momentum, p.Epsilon)
			}
			theta, v, g = theta[n4:], v[n4:], g[n4:]
			if mom != nil {
				mom = mom[n4:]
			}
			if mg != nil {
				mg = mg[n4:]
			}
		}
		refRMSpropStep(theta, v, mom, mg, g, p)
	}
	l.adamStep = func(theta, m, v, vhat, g []float32, p AdamParams) {
		n := len(theta)
		m, v, g = m[:n], v[:n], g[:n]
		if vhat != nil {
			vhat = vhat[:n]
		}
		if n4 := n &^ 3; n4 > 0 {
			if vhat != nil {
				asm.AMSGradStepNEON(theta[:n4], m[:n4], v[:n4], vhat[:n4], g[:n4], p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon)
				vhat = vhat[n4:]
			} else {
				asm.AdamStepNEON(theta[:n4], m[:n4], v[:n4], g[:n4], p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon)
			}
			theta, m, v, g = theta[n4:], m[n4:], v[n4:], g[n4:]
		}
		refAdamStep(theta, m, v, vhat, g, p)
	}
	l.sumSquares = sumSquaresNEON
	l.scale = func(x []float32, s float32) {
		n4 := len(x) &^ 3
		if n4 > 0 {
			asm.ScaleNEON(x[:n4], s)
		}
		refScale(x[n4:], s)
	}
	l.clamp = func(x []float32, lo, hi float32) {
		n4 := len(x) &^ 3
		if n4 > 0 {
			asm.ClampNEON(x[:n4], lo, hi)
		}
		refClamp(x[n4:], lo, hi)
	}
	l.allFinite = func(x []float32) bool {
		n4 := len(x) &^ 3
		return asm.AllFiniteNEON(x[:n4]) && refAllFinite(x[n4:])
	}
	l.colSum = func(dst, x []float32, rows, cols int) {
		dst = dst[:cols]
		x = x[:rows*cols]
		c4 := cols &^ 3
		if rows == 0 || c4 == 0 {
			refColSum(dst, x, rows, cols)
			return
		}
		asm.ColSumNEON(dst[:c4], x, rows, cols)
		tail := dst[c4:]
		clear(tail)
		for i := range rows {
			for j, v := range x[i*cols+c4 : (i+1)*cols] {
				tail[j] += v
			}
		}
	}
}

// sumSquaresNEON continues the assembly's 32 partial sums over the tail,
// element i still going to partial i mod 32, then folds them as
// refSumSquares does.
func sumSquaresNEON(x []float32) float64 {
	var s [32]float64
	n32 := len(x) &^ 31
	if n32 > 0 {
		asm.SumSquaresNEON(x[:n32], &s)
	}
	for i, v := range x[n32:] {
		s[i] += float64(v) * float64(v)
	}
	for step := 16; step >= 1; step /= 2 {
		for k := range step {
			s[k] += s[k+step]
		}
	}
	return s[0]
}
