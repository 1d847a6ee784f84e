//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// optimNEON installs the NEON optimizer steps and reductions into l. Each
// kernel does the reference's operations lane by lane (kernels/ref_optim.go,
// ref.go) and finishes its own tail, so the results are bit-identical to
// the generic level.
func optimNEON(l *impl) {
	installOptim(l, &optimAsm{
		sgd:            asm.SGDStepNEON,
		sgdNesterov:    asm.SGDNesterovStepNEON,
		adagrad:        asm.AdagradStepNEON,
		rms:            asm.RMSpropStepNEON,
		rmsCentered:    asm.RMSpropCenteredStepNEON,
		rmsMom:         asm.RMSpropMomentumStepNEON,
		rmsMomCentered: asm.RMSpropMomentumCenteredStepNEON,
		adam:           asm.AdamStepNEON,
		amsgrad:        asm.AMSGradStepNEON,
		sumSquares:     asm.SumSquaresNEON,
		scale:          asm.ScaleNEON,
		clamp:          asm.ClampNEON,
		allFinite:      asm.AllFiniteNEON,
		colSum:         asm.ColSumNEON,
	})
}
