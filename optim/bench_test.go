package optim

import (
	"math/rand/v2"
	"testing"
)

// benchSizes are the tutorial's 784-100-10 model: kernel and bias of each
// Dense layer, 79,510 parameters.
var benchSizes = []int{784 * 100, 100, 100 * 10, 10}

// BenchmarkStep measures one Step of each optimizer on the tutorial's
// model, at the active kernel level, with and without the shared options.
// The MB/s figure counts the float32 arrays the update itself reads and
// writes, each read and each write once; the extra passes of clipping and
// weight decay are not counted, so their cost shows as a lower rate.
func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		name    string
		opt     Optimizer
		streams int // arrays read plus arrays written
	}{
		{"SGD", SGD{}, 3 + 2},
		{"SGD-nesterov", SGD{Momentum: 0.9, Nesterov: true}, 3 + 2},
		{"Adagrad", Adagrad{}, 3 + 2},
		{"RMSprop", RMSprop{}, 3 + 2},
		{"RMSprop-centered-momentum", RMSprop{Momentum: 0.9, Centered: true}, 5 + 4},
		{"Adam", Adam{}, 4 + 3},
		{"Adam-amsgrad", Adam{Amsgrad: true}, 5 + 4},
		{"Adam-clipnorm", Adam{Options: Options{Clipnorm: 1}}, 4 + 3},
		{"Adam-global_clipnorm", Adam{Options: Options{GlobalClipnorm: 1}}, 4 + 3},
		{"Adam-weight_decay", Adam{Options: Options{WeightDecay: 0.004}}, 4 + 3},
	} {
		b.Run(c.name, func(b *testing.B) {
			u, err := c.opt.Build(benchSizes)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			p := randTensors(rng, benchSizes, 1)
			g := randTensors(rng, benchSizes, 0.01)
			n := 0
			for _, s := range benchSizes {
				n += s
			}
			b.SetBytes(int64(4 * n * c.streams))
			b.ReportAllocs()
			for b.Loop() {
				u.Step(p, g)
			}
		})
	}
}
