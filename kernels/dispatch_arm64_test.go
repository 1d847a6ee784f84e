//go:build gc && !purego

package kernels

import "testing"

// TestNEONInstalled makes sure the neon level is the last (selected)
// level and that it holds the NEON kernels its tables list, not the
// generic ones they are bit-identical to, so that the level tests
// exercise assembly.
func TestNEONInstalled(t *testing.T) {
	if got := Available(); len(got) != 2 || got[0] != "generic" || got[1] != "neon" {
		t.Fatalf("Available() = %v, want [generic neon]", got)
	}
	defer neonLevel(t)()
	kernels := map[string][2]any{
		"sgdStep": {active.sgdStep, generic.sgdStep}, "adagradStep": {active.adagradStep, generic.adagradStep},
		"rmspropStep": {active.rmspropStep, generic.rmspropStep}, "adamStep": {active.adamStep, generic.adamStep},
		"sumSquares": {active.sumSquares, generic.sumSquares}, "scale": {active.scale, generic.scale},
		"clamp": {active.clamp, generic.clamp}, "allFinite": {active.allFinite, generic.allFinite},
		"colSum":              {active.colSum, generic.colSum},
		"softmaxCrossEntropy": {active.softmaxCrossEntropy, generic.softmaxCrossEntropy},
		"dropout":             {active.dropout, generic.dropout},
		"quantizeRowsU8":      {active.quantizeRowsU8, generic.quantizeRowsU8},
		"int8Dense":           {active.int8Dense, generic.int8Dense},
	}
	for _, act := range Activations() {
		a, g, k := active.acts[act], generic.acts[act], elemNEONActs[act]
		if k.forward != nil {
			kernels[act.String()+" forward"] = [2]any{a.forward, g.forward}
		}
		if k.bias != nil {
			kernels[act.String()+" bias"] = [2]any{a.bias, g.bias}
		}
		if k.grad != nil {
			kernels[act.String()+" grad"] = [2]any{a.grad, g.grad}
		}
	}
	for name, pair := range kernels {
		if sameFunc(pair[0], pair[1]) {
			t.Errorf("neon %s is the generic kernel", name)
		}
	}
}
