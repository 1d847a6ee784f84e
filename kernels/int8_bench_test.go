package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// int8BenchLayers are the tutorial model's two layers (784→100 ReLU,
// 100→10 softmax); "model" runs both, as a prediction does.
var int8BenchLayers = []struct {
	name      string
	in, units int
	act       Activation
}{
	{"784x100", 784, 100, ActReLU},
	{"100x10", 100, 10, ActSoftmax},
}

// BenchmarkDenseInt8 times the int8 path beside the float32 layer
// (DenseForward) on the tutorial's layers and whole model, at one sample
// (a prediction), a batch of 32 and 12,000 samples (an evaluation; both
// paths take them in one call and block them internally), on every level
// and one thread, so that ns/op compare directly: dtype=int8 against
// dtype=float32 of the same level, layer and m.
func BenchmarkDenseInt8(b *testing.B) {
	defer SetThreads(SetThreads(1))
	r := rand.New(rand.NewPCG(3, 4))
	type layer struct {
		in, units int
		act       Activation
		wf, bias  []float32
		wq        *Int8Weights
	}
	ls := make([]layer, len(int8BenchLayers))
	for i, l := range int8BenchLayers {
		wf := make([]float32, l.in*l.units)
		for j := range wf {
			wf[j] = float32(r.NormFloat64() * 0.05)
		}
		bias := make([]float32, l.units)
		ls[i] = layer{l.in, l.units, l.act, wf, bias, QuantizeWeights(wf, l.in, l.units)}
	}
	const maxM = 12000
	x := make([]float32, maxM*784)
	for i := range x {
		x[i] = float32(r.IntN(256)) / 255
	}
	h := make([]float32, maxM*100)
	out := make([]float32, maxM*10)
	run := func(int8 bool, li []int, m int) {
		src, ys := x, [][]float32{h, out}
		for _, i := range li {
			l := ls[i]
			y := ys[i]
			if int8 {
				DenseInt8(l.act, m, src, l.in, l.wq, l.bias, y, l.units)
			} else {
				DenseForward(l.act, m, l.units, l.in, src, l.in, l.wf, l.units, l.bias, y, l.units)
			}
			src = y
		}
	}
	for _, level := range Available() {
		for _, shape := range []struct {
			name string
			li   []int
		}{{"784x100", []int{0}}, {"100x10", []int{1}}, {"model", []int{0, 1}}} {
			for _, m := range []int{1, 32, maxM} {
				for _, dtype := range []string{"int8", "float32"} {
					b.Run(fmt.Sprintf("level=%s/layer=%s/m=%d/dtype=%s", level, shape.name, m, dtype), func(b *testing.B) {
						restore, err := Use(level)
						if err != nil {
							b.Fatal(err)
						}
						defer restore()
						li := shape.li
						if shape.name == "100x10" {
							// Its input is the hidden layer's output.
							run(false, []int{0}, m)
						}
						run(dtype == "int8", li, m) // warm-up: scratch, pages
						b.ResetTimer()
						for range b.N {
							run(dtype == "int8", li, m)
						}
					})
				}
			}
		}
	}
}

// BenchmarkQuantizeRowsU8 times the per-row quantization alone on a block
// of DenseInt8 (32 rows) of the model's input and hidden widths.
func BenchmarkQuantizeRowsU8(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, level := range Available() {
		for _, k := range []int{784, 100} {
			b.Run(fmt.Sprintf("level=%s/k=%d", level, k), func(b *testing.B) {
				restore, err := Use(level)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				const m = 32
				x := make([]float32, m*k)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				kp := roundUp(k, 4)
				q := make([]uint8, m*kp)
				s, z := make([]float32, m), make([]int32, m)
				b.SetBytes(int64(4 * m * k))
				for range b.N {
					QuantizeRowsU8(q, kp, s, z, x, k, m, k)
				}
			})
		}
	}
}
