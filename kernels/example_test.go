package kernels_test

import (
	"fmt"
	"math"

	"github.com/simdmlp/simdmlp/kernels"
)

func ExampleSoftmax() {
	// Two rows of three logits. The second holds a huge logit, which the
	// subtraction of the row maximum makes harmless.
	x := []float32{
		1, 2, 3,
		1e30, 0, -1,
	}
	p := make([]float32, len(x))
	kernels.Softmax(p, x, 2, 3)
	fmt.Printf("%.4f\n", p[:3])
	fmt.Printf("%.4f\n", p[3:])
	// Output:
	// [0.0900 0.2447 0.6652]
	// [1.0000 0.0000 0.0000]
}

func ExampleSoftmaxCrossEntropy() {
	// A batch of two samples over three classes, as the output layer of a
	// classifier produces them (logits, before any softmax).
	logits := []float32{
		2, 1, 0.1, // label 0: a confident, correct prediction
		0.5, 2.5, 0.3, // label 2: wrong
	}
	labels := []int32{0, 2}
	probs := make([]float32, 6)
	grad := make([]float32, 6)
	sum := kernels.SoftmaxCrossEntropy(probs, grad, logits, labels, 2, 3)
	fmt.Printf("batch loss %.4f\n", sum/2) // Keras reports the batch mean
	fmt.Printf("probs %.4f\n", probs)
	fmt.Printf("grad  %.4f\n", grad) // (probs - onehot) / 2
	// Output:
	// batch loss 1.4185
	// probs [0.6590 0.2424 0.0986 0.1086 0.8025 0.0889]
	// grad  [-0.1705 0.1212 0.0493 0.0543 0.4012 -0.4555]
}

func ExampleAdamStep() {
	// One step of Keras's Adam at its defaults (learning_rate=0.001,
	// beta_1=0.9, beta_2=0.999, epsilon=1e-7) from fresh, zeroed moments.
	const lr, beta1, beta2 = 0.001, 0.9, 0.999
	theta := []float32{1, -1, 0.5}
	g := []float32{0.5, -0.25, 0}
	m := make([]float32, 3)
	v := make([]float32, 3)

	// The caller folds the bias correction into Alpha once per step, in
	// float32 as Keras does, with t = iterations + 1.
	t := float64(1)
	b1t := float32(math.Pow(beta1, t))
	b2t := float32(math.Pow(beta2, t))
	alpha := float32(lr) * float32(math.Sqrt(float64(1-b2t))) / (1 - b1t)

	kernels.AdamStep(theta, m, v, nil, g, kernels.AdamParams{
		Alpha:         alpha,
		OneMinusBeta1: float32(1 - beta1),
		OneMinusBeta2: float32(1 - beta2),
		Epsilon:       1e-7,
	})
	// The first Adam step moves every weight with a non-zero gradient by
	// about the learning rate, against the sign of its gradient.
	fmt.Printf("theta %.6f\n", theta)
	fmt.Printf("m     %.6f\n", m)
	fmt.Printf("v     %.8f\n", v)
	// Output:
	// theta [0.999000 -0.999000 0.500000]
	// m     [0.050000 -0.025000 0.000000]
	// v     [0.00025000 0.00006250 0.00000000]
}

// ParseActivation reads the Keras names that Dense(activation=...) takes
// (ActivationNames lists them, for help texts); as in Keras, they are
// case-sensitive and "" means linear.
func ExampleParseActivation() {
	for _, name := range []string{"relu", "", "Relu"} {
		act, err := kernels.ParseActivation(name)
		fmt.Printf("%q: %v %v\n", name, act, err != nil)
	}
	// Output:
	// "relu": relu false
	// "": linear false
	// "Relu": linear true
}

// A dense layer in int8: the kernel quantized once, the input quantized
// per row on every call; the outputs are the same bits on every level.
func ExampleDenseInt8() {
	// A 4×2 kernel: column j's codes are w[·][j] / (max|w[·][j]| / 127).
	w := []float32{
		0.5, -1.0,
		0.25, 0.5,
		-0.5, 0.0,
		1.0, 0.25,
	}
	q := kernels.QuantizeWeights(w, 4, 2)
	fmt.Println("codes", q.Codes(), "scales", q.Scales())

	x := []float32{1, 0.5, 0, 2} // one sample
	y := make([]float32, 2)
	kernels.DenseInt8(kernels.ActLinear, 1, x, 4, q, []float32{0.1, -0.1}, y, 2)
	fmt.Printf("int8    %.3f\n", y)
	// float32: 1·0.5 + 0.5·0.25 + 2·1 + 0.1 = 2.725; −1 + 0.25 + 0.5 − 0.1 = −0.35
	fmt.Println("float32 [2.725 -0.350]")
	// Output:
	// codes [64 -127 32 64 -64 0 127 32] scales [0.007874016 0.007874016]
	// int8    [2.728 -0.339]
	// float32 [2.725 -0.350]
}

// An inference core that serves one goroutine at a time keeps its own
// Int8Scratch, so that its calls skip DenseInt8's shared free list; the
// result says whether the input was finite. (The exact outputs are 2 and
// 0; the rest is the quantization error, the same at every kernel level.)
func ExampleInt8Scratch() {
	q := kernels.QuantizeWeights([]float32{1, -1, 0.5, 0.5}, 2, 2)
	bias := []float32{0, 0}
	var s kernels.Int8Scratch
	y := make([]float32, 2)
	for _, x := range [][]float32{{1, 2}, {1, float32(math.NaN())}} {
		ok := s.DenseInt8(kernels.ActReLU, 1, x, 2, q, bias, y, 2)
		if !ok {
			fmt.Println(x, "is not finite")
			continue
		}
		fmt.Printf("%v → %.3f\n", x, y)
	}
	// Output:
	// [1 2] → [2.004 0.012]
	// [1 NaN] is not finite
}
