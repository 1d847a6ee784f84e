//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// optimAVX2 installs the AVX2 optimizer steps and reductions into l.
func optimAVX2(l *impl) {
	installOptim(l, &optimAsm{
		sgd:            asm.SGDStepAVX2,
		sgdNesterov:    asm.SGDNesterovStepAVX2,
		adagrad:        asm.AdagradStepAVX2,
		rms:            asm.RMSpropStepAVX2,
		rmsCentered:    asm.RMSpropCenteredStepAVX2,
		rmsMom:         asm.RMSpropMomentumStepAVX2,
		rmsMomCentered: asm.RMSpropMomentumCenteredStepAVX2,
		adam:           asm.AdamStepAVX2,
		amsgrad:        asm.AMSGradStepAVX2,
		sumSquares:     asm.SumSquaresAVX2,
		scale:          asm.ScaleAVX2,
		clamp:          asm.ClampAVX2,
		allFinite:      asm.AllFiniteAVX2,
		colSum:         asm.ColSumAVX2,
	})
}

// optimAVX512 installs the AVX-512 optimizer steps and reductions into l.
func optimAVX512(l *impl) {
	installOptim(l, &optimAsm{
		sgd:            asm.SGDStepAVX512,
		sgdNesterov:    asm.SGDNesterovStepAVX512,
		adagrad:        asm.AdagradStepAVX512,
		rms:            asm.RMSpropStepAVX512,
		rmsCentered:    asm.RMSpropCenteredStepAVX512,
		rmsMom:         asm.RMSpropMomentumStepAVX512,
		rmsMomCentered: asm.RMSpropMomentumCenteredStepAVX512,
		adam:           asm.AdamStepAVX512,
		amsgrad:        asm.AMSGradStepAVX512,
		sumSquares:     asm.SumSquaresAVX512,
		scale:          asm.ScaleAVX512,
		clamp:          asm.ClampAVX512,
		allFinite:      asm.AllFiniteAVX512,
		colSum:         asm.ColSumAVX512,
	})
}
