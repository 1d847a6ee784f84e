package kernels

// generic is the portable level: every kernel's Go reference. It is always
// available and is what every assembly level is tested against.
var generic = &impl{
	name: "generic",

	sgemm: genericGemm,
	acts:  referenceActs(),

	colSum: refColSum,

	softmaxCrossEntropy: refSoftmaxCrossEntropy,
	argmax:              refArgmax,
	countCorrect:        refCountCorrect,

	sgdStep:     refSGDStep,
	adagradStep: refAdagradStep,
	rmspropStep: refRMSpropStep,
	adamStep:    refAdamStep,

	sumSquares: refSumSquares,
	scale:      refScale,
	clamp:      refClamp,
	allFinite:  refAllFinite,
	dropout:    refDropout,

	prefetchRows: refPrefetchRows,

	quantizeRowsU8: refQuantizeRowsU8,
	int8Dense:      genericInt8Dense,
}
