//go:build gc && !purego

package kernels

import (
	"reflect"
	"testing"
)

// TestNEONInstalled makes sure the neon level is the last (selected)
// level and that its table holds the NEON kernels, not the generic ones
// they are bit-identical to, so that the level tests exercise assembly.
func TestNEONInstalled(t *testing.T) {
	if got := Available(); len(got) != 2 || got[0] != "generic" || got[1] != "neon" {
		t.Fatalf("Available() = %v, want [generic neon]", got)
	}
	defer neonLevel(t)()
	same := func(a, b any) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	for name, pair := range map[string][2]any{
		"relu": {active.relu, generic.relu}, "sigmoid": {active.sigmoid, generic.sigmoid}, "tanh": {active.tanh, generic.tanh},
		"reluGrad": {active.reluGrad, generic.reluGrad}, "sigmoidGrad": {active.sigmoidGrad, generic.sigmoidGrad},
		"tanhGrad": {active.tanhGrad, generic.tanhGrad}, "addBias": {active.addBias, generic.addBias},
		"biasRelu": {active.biasRelu, generic.biasRelu}, "biasSigmoid": {active.biasSigmoid, generic.biasSigmoid},
		"biasTanh": {active.biasTanh, generic.biasTanh},
		"sgdStep":  {active.sgdStep, generic.sgdStep}, "adagradStep": {active.adagradStep, generic.adagradStep},
		"rmspropStep": {active.rmspropStep, generic.rmspropStep}, "adamStep": {active.adamStep, generic.adamStep},
		"sumSquares": {active.sumSquares, generic.sumSquares}, "scale": {active.scale, generic.scale},
		"clamp": {active.clamp, generic.clamp}, "allFinite": {active.allFinite, generic.allFinite},
		"colSum": {active.colSum, generic.colSum}, "softmax": {active.softmax, generic.softmax},
		"biasSoftmax":         {active.biasSoftmax, generic.biasSoftmax},
		"softmaxCrossEntropy": {active.softmaxCrossEntropy, generic.softmaxCrossEntropy},
	} {
		if same(pair[0], pair[1]) {
			t.Errorf("neon %s is the generic kernel", name)
		}
	}
}
