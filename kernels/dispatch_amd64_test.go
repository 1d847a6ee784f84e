//go:build gc && !purego

package kernels

import "testing"

// TestAVXInstalled makes sure that each assembly level's table holds its
// own activation and reduction kernels, not those of the level below
// (which they are bit-identical to), so that the tests looping over
// levels exercise every level's assembly.
func TestAVXInstalled(t *testing.T) {
	below := generic
	for _, l := range levels[1:] {
		kernels := map[string][2]any{
			"sgdStep": {l.sgdStep, below.sgdStep}, "adamStep": {l.adamStep, below.adamStep},
			"sumSquares": {l.sumSquares, below.sumSquares}, "colSum": {l.colSum, below.colSum},
			"softmaxCrossEntropy": {l.softmaxCrossEntropy, below.softmaxCrossEntropy},
			"argmax":              {l.argmax, below.argmax}, "countCorrect": {l.countCorrect, below.countCorrect},
		}
		for _, act := range Activations() {
			a, b := l.acts[act], below.acts[act]
			kernels[act.String()+" bias"] = [2]any{a.bias, b.bias}
			if act != ActLinear { // a copy is a copy on every level
				kernels[act.String()+" forward"] = [2]any{a.forward, b.forward}
				kernels[act.String()+" grad"] = [2]any{a.grad, b.grad}
			}
		}
		for name, pair := range kernels {
			if sameFunc(pair[0], pair[1]) {
				t.Errorf("%s %s is the %s level's kernel", l.name, name, below.name)
			}
		}
		below = l
	}
}
