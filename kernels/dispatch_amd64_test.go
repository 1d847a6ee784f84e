//go:build gc && !purego

package kernels

import "testing"

// TestAVXInstalled makes sure that each assembly level's table holds its
// own reduction kernels and the activation kernels its elementwise table
// lists, not those of the level below (which they are bit-identical to),
// so that the tests looping over levels exercise every level's assembly.
func TestAVXInstalled(t *testing.T) {
	below := generic
	for _, l := range levels[1:] {
		kernels := map[string][2]any{
			"sgdStep": {l.sgdStep, below.sgdStep}, "adamStep": {l.adamStep, below.adamStep},
			"sumSquares": {l.sumSquares, below.sumSquares}, "colSum": {l.colSum, below.colSum},
			"softmaxCrossEntropy": {l.softmaxCrossEntropy, below.softmaxCrossEntropy},
			"argmax":              {l.argmax, below.argmax}, "countCorrect": {l.countCorrect, below.countCorrect},
			"dropout": {l.dropout, below.dropout},
		}
		tables := map[string]*elemAsm{"avx2": elemAVX2Asm, "avx512": elemAVX512Asm}
		table := tables[l.name]
		if table == nil {
			t.Fatalf("level %s has no elementwise table", l.name)
		}
		for _, act := range Activations() {
			a, b, k := l.acts[act], below.acts[act], table.acts[act]
			if k.forward != nil {
				kernels[act.String()+" forward"] = [2]any{a.forward, b.forward}
			}
			if k.bias != nil {
				kernels[act.String()+" bias"] = [2]any{a.bias, b.bias}
			}
			if k.grad != nil {
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
