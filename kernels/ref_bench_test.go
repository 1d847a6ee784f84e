package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks of every non-GEMM kernel on every level, at the sizes one
// training step of the tutorial's 784-100-10 model at batch 32 uses:
// 32×100 hidden activations, 32×10 logits, and optimizer updates over the
// 78500 weights of the first layer and the 1010 of the second. SetBytes
// counts each array the kernel reads or writes once, so MB/s compares
// kernels of different arity.
//
//	go test -run '^$' -bench . -benchtime 200ms ./kernels
//
// Names read BenchmarkRelu/impl=generic/n=3200.

// forEachBenchLevel runs f once per level, with that level active.
func forEachBenchLevel(b *testing.B, f func(b *testing.B)) {
	for _, level := range Available() {
		b.Run("impl="+level, func(b *testing.B) {
			restore, err := Use(level)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			f(b)
		})
	}
}

func benchVec(n int, sd float64) []float32 {
	return randInput(rand.New(rand.NewPCG(uint64(n), 7)), n, sd, false)
}

// runBench times f as one sub-benchmark named name, with arrays float32
// arrays of n elements touched per call.
func runBench(b *testing.B, name string, n, arrays int, f func()) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(4 * n * arrays))
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
	})
}

const (
	benchRows, benchHidden, benchClasses = 32, 100, 10
	benchW1, benchW2                     = 78500, 1010
)

func BenchmarkRelu(b *testing.B)    { benchUnary(b, Relu) }
func BenchmarkSigmoid(b *testing.B) { benchUnary(b, Sigmoid) }
func BenchmarkTanh(b *testing.B)    { benchUnary(b, Tanh) }

func benchUnary(b *testing.B, fn func(dst, x []float32)) {
	n := benchRows * benchHidden
	x := benchVec(n, 2)
	dst := make([]float32, n)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("n=%d", n), n, 2, func() { fn(dst, x) })
	})
}

func BenchmarkReluGrad(b *testing.B)    { benchGrad(b, ReluGrad) }
func BenchmarkSigmoidGrad(b *testing.B) { benchGrad(b, SigmoidGrad) }
func BenchmarkTanhGrad(b *testing.B)    { benchGrad(b, TanhGrad) }

func benchGrad(b *testing.B, fn func(dx, dy, y []float32)) {
	n := benchRows * benchHidden
	dy := benchVec(n, 1)
	y := benchVec(n+1, 0.3)[:n]
	dx := make([]float32, n)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("n=%d", n), n, 3, func() { fn(dx, dy, y) })
	})
}

// BenchmarkBiasActivation runs the fused forward tail on the hidden layer
// (32×100) for every activation and on the output layer (32×10) for
// softmax. Each call starts from the same pre-activations, copied in
// place, since the kernel works in place; the copy is part of the time.
func BenchmarkBiasActivation(b *testing.B) {
	for _, act := range Activations() {
		cols := benchHidden
		if act == ActSoftmax {
			cols = benchClasses
		}
		n := benchRows * cols
		src := benchVec(n, 2)
		bias := benchVec(cols, 0.1)
		x := make([]float32, n)
		b.Run("act="+act.String(), func(b *testing.B) {
			forEachBenchLevel(b, func(b *testing.B) {
				runBench(b, fmt.Sprintf("%dx%d", benchRows, cols), n, 2, func() {
					copy(x, src)
					BiasActivation(act, x, bias, benchRows, cols)
				})
			})
		})
	}
}

func BenchmarkAddBias(b *testing.B) {
	n := benchRows * benchHidden
	x := benchVec(n, 1)
	bias := benchVec(benchHidden, 1e-3)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("%dx%d", benchRows, benchHidden), n, 2, func() { AddBias(x, bias, benchRows, benchHidden) })
	})
}

func BenchmarkColSum(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, cols := range []int{benchHidden, benchClasses} {
			n := benchRows * cols
			x := benchVec(n, 1)
			dst := make([]float32, cols)
			runBench(b, fmt.Sprintf("%dx%d", benchRows, cols), n, 1, func() { ColSum(dst, x, benchRows, cols) })
		}
	})
}

func BenchmarkSoftmax(b *testing.B) {
	n := benchRows * benchClasses
	x := benchVec(n, 3)
	dst := make([]float32, n)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("%dx%d", benchRows, benchClasses), n, 2, func() { Softmax(dst, x, benchRows, benchClasses) })
	})
}

func BenchmarkSoftmaxGrad(b *testing.B) {
	n := benchRows * benchClasses
	dy := benchVec(n, 1)
	y := benchVec(n, 0.3)
	dx := make([]float32, n)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("%dx%d", benchRows, benchClasses), n, 3, func() { SoftmaxGrad(dx, dy, y, benchRows, benchClasses) })
	})
}

// BenchmarkSoftmaxCrossEntropy times the training call (probs and grad)
// and the evaluation call (loss only).
func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	n := benchRows * benchClasses
	logits := benchVec(n, 3)
	labels := make([]int32, benchRows)
	for i := range labels {
		labels[i] = int32(i % benchClasses)
	}
	probs := make([]float32, n)
	grad := make([]float32, n)
	forEachBenchLevel(b, func(b *testing.B) {
		shape := fmt.Sprintf("%dx%d", benchRows, benchClasses)
		runBench(b, shape+",train", n, 3, func() { SoftmaxCrossEntropy(probs, grad, logits, labels, benchRows, benchClasses) })
		runBench(b, shape+",eval", n, 1, func() { SoftmaxCrossEntropy(nil, nil, logits, labels, benchRows, benchClasses) })
	})
}

func BenchmarkArgmax(b *testing.B) {
	n := benchRows * benchClasses
	x := benchVec(n, 3)
	dst := make([]int32, benchRows)
	labels := make([]int32, benchRows)
	forEachBenchLevel(b, func(b *testing.B) {
		shape := fmt.Sprintf("%dx%d", benchRows, benchClasses)
		runBench(b, shape, n, 1, func() { Argmax(dst, x, benchRows, benchClasses) })
		runBench(b, shape+",CountCorrect", n, 1, func() { CountCorrect(x, labels, benchRows, benchClasses) })
	})
}

// BenchmarkDropout masks the hidden activations (32×100) and a batch of
// 256 input images (256×784) at rate 0.3, reading x and writing dst.
func BenchmarkDropout(b *testing.B) {
	p := NewDropoutParams(0.3, 0x5eed)
	forEachBenchLevel(b, func(b *testing.B) {
		for _, shape := range [][2]int{{benchRows, benchHidden}, {256, 784}} {
			n := shape[0] * shape[1]
			x := benchVec(n, 1)
			dst := make([]float32, n)
			runBench(b, fmt.Sprintf("%dx%d", shape[0], shape[1]), n, 2, func() { Dropout(dst, x, p) })
		}
	})
}

// The optimizer benchmarks keep stepping the same state, which stays
// finite: gradients are small and fixed, and every update is bounded.

// benchSizes are the parameter counts of the tutorial model's two layers.
var benchSizes = []int{benchW1, benchW2}

func BenchmarkSGDStep(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, n := range benchSizes {
			theta, m, g := benchVec(n, 0.1), make([]float32, n), benchVec(n, 1e-3)
			runBench(b, fmt.Sprintf("n=%d", n), n, 3, func() { SGDStep(theta, m, g, SGDParams{0.01, 0.9, true}) })
		}
	})
}

func BenchmarkAdagradStep(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, n := range benchSizes {
			theta, acc, g := benchVec(n, 0.1), make([]float32, n), benchVec(n, 1e-3)
			for i := range acc {
				acc[i] = 0.1
			}
			runBench(b, fmt.Sprintf("n=%d", n), n, 3, func() { AdagradStep(theta, acc, g, AdagradParams{0.001, 1e-7}) })
		}
	})
}

func BenchmarkRMSpropStep(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, n := range benchSizes {
			theta, v, g := benchVec(n, 0.1), make([]float32, n), benchVec(n, 1e-3)
			runBench(b, fmt.Sprintf("n=%d", n), n, 3, func() {
				RMSpropStep(theta, v, nil, nil, g, RMSpropParams{LR: 0.001, Rho: 0.9, OneMinusRho: 0.1, Epsilon: 1e-7})
			})
		}
	})
}

func BenchmarkAdamStep(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, n := range benchSizes {
			theta, m, v, g := benchVec(n, 0.1), make([]float32, n), make([]float32, n), benchVec(n, 1e-3)
			runBench(b, fmt.Sprintf("n=%d", n), n, 4, func() {
				AdamStep(theta, m, v, nil, g, AdamParams{Alpha: 3.16e-4, OneMinusBeta1: 0.1, OneMinusBeta2: 0.001, Epsilon: 1e-7})
			})
		}
	})
}

func BenchmarkVectorUtilities(b *testing.B) {
	n := benchW1
	x := benchVec(n, 1)
	forEachBenchLevel(b, func(b *testing.B) {
		runBench(b, fmt.Sprintf("SumSquares/n=%d", n), n, 1, func() { SumSquares(x) })
		runBench(b, fmt.Sprintf("Scale/n=%d", n), n, 1, func() { Scale(x, 1) })
		runBench(b, fmt.Sprintf("Clamp/n=%d", n), n, 1, func() { Clamp(x, -5, 5) })
		runBench(b, fmt.Sprintf("AllFinite/n=%d", n), n, 1, func() { AllFinite(x) })
	})
}

// BenchmarkRowShapes times the row kernels on shapes beside the trainer's:
// rows narrower than 8 columns, one column past an AVX-512 vector, and a
// 100-class softmax, in place and out of place. Narrow rows in place are
// where a masked store can delay the next row's load (see narrowRows in
// elem_amd64.go); these keep that visible.
func BenchmarkRowShapes(b *testing.B) {
	forEachBenchLevel(b, func(b *testing.B) {
		for _, cols := range []int{7, 17, 100} {
			n := benchRows * cols
			src := benchVec(n, 2)
			bias := benchVec(cols, 0.1)
			x := make([]float32, n)
			dst := make([]float32, n)
			labels := make([]int32, benchRows)
			for i := range labels {
				labels[i] = int32(i % cols)
			}
			shape := fmt.Sprintf("%dx%d", benchRows, cols)
			runBench(b, "BiasRelu/"+shape, n, 2, func() {
				copy(x, src)
				BiasActivation(ActReLU, x, bias, benchRows, cols)
			})
			runBench(b, "Softmax/"+shape, n, 2, func() { Softmax(dst, src, benchRows, cols) })
			runBench(b, "SoftmaxInPlace/"+shape, n, 2, func() {
				copy(x, src)
				Softmax(x, x, benchRows, cols)
			})
			runBench(b, "SoftmaxCrossEntropy/"+shape, n, 3, func() {
				SoftmaxCrossEntropy(dst, x, src, labels, benchRows, cols)
			})
		}
	})
}
