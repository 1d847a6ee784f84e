//go:build gc && !purego && (amd64 || arm64)

package kernels

// The optimizer and reduction glue shared by the assembly levels
// (optim_amd64.go, optim_arm64.go): each ISA supplies a table, whose
// kernels handle every length themselves, and installOptim fits it into
// the level.

// optimAsm is one ISA's set of optimizer and reduction kernels. The
// assembly reads len(theta) (len(x), rows·cols) elements of every slice;
// installOptim reslices every other slice to that length first, so a short
// slice panics in Go instead of being overrun (the exported entry points
// have already checked, so this costs one comparison each).
type optimAsm struct {
	sgd, sgdNesterov func(theta, m, g []float32, negLR, mu float32)
	adagrad          func(theta, acc, g []float32, lr, eps float32)
	rms              func(theta, v, g []float32, lr, rho, omr, eps float32)
	rmsCentered      func(theta, v, mg, g []float32, lr, rho, omr, eps float32)
	rmsMom           func(theta, v, mom, g []float32, lr, rho, omr, mu, eps float32)
	rmsMomCentered   func(theta, v, mom, mg, g []float32, lr, rho, omr, mu, eps float32)
	adam             func(theta, m, v, g []float32, alpha, omb1, omb2, eps float32)
	amsgrad          func(theta, m, v, vhat, g []float32, alpha, omb1, omb2, eps float32)
	sumSquares       func(x []float32) float64
	scale            func(x []float32, s float32)
	clamp            func(x []float32, lo, hi float32)
	allFinite        func(x []float32) bool
	colSum           func(dst, x []float32, rows, cols int)
}

// installOptim installs a's kernels into l.
func installOptim(l *impl, a *optimAsm) {
	l.sgdStep = func(theta, m, g []float32, p SGDParams) {
		n := len(theta)
		// −LR is exact, and (−g)·LR = g·(−LR) in every rounding.
		if p.Nesterov {
			a.sgdNesterov(theta, m[:n], g[:n], -p.LR, p.Momentum)
		} else {
			a.sgd(theta, m[:n], g[:n], -p.LR, p.Momentum)
		}
	}
	l.adagradStep = func(theta, acc, g []float32, p AdagradParams) {
		n := len(theta)
		a.adagrad(theta, acc[:n], g[:n], p.LR, p.Epsilon)
	}
	// As in the reference, a nil buffer (not the parameters) selects the
	// variant: the exported RMSpropStep passes nil for the unused ones.
	l.rmspropStep = func(theta, v, mom, mg, g []float32, p RMSpropParams) {
		n := len(theta)
		v, g = v[:n], g[:n]
		switch {
		case mom == nil && mg == nil:
			a.rms(theta, v, g, p.LR, p.Rho, p.OneMinusRho, p.Epsilon)
		case mom == nil:
			a.rmsCentered(theta, v, mg[:n], g, p.LR, p.Rho, p.OneMinusRho, p.Epsilon)
		case mg == nil:
			a.rmsMom(theta, v, mom[:n], g, p.LR, p.Rho, p.OneMinusRho, p.Momentum, p.Epsilon)
		default:
			a.rmsMomCentered(theta, v, mom[:n], mg[:n], g, p.LR, p.Rho, p.OneMinusRho, p.Momentum, p.Epsilon)
		}
	}
	l.adamStep = func(theta, m, v, vhat, g []float32, p AdamParams) {
		n := len(theta)
		if vhat != nil {
			a.amsgrad(theta, m[:n], v[:n], vhat[:n], g[:n], p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon)
		} else {
			a.adam(theta, m[:n], v[:n], g[:n], p.Alpha, p.OneMinusBeta1, p.OneMinusBeta2, p.Epsilon)
		}
	}
	l.sumSquares = a.sumSquares
	l.scale = a.scale
	l.clamp = a.clamp
	l.allFinite = a.allFinite
	l.colSum = func(dst, x []float32, rows, cols int) {
		a.colSum(dst[:cols], x[:rows*cols], rows, cols)
	}
}
