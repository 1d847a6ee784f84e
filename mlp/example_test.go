package mlp_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
	"github.com/simdmlp/simdmlp/optim"
)

// The tutorial's summaries: a model built from a list of layers, then one
// built with Add. Names come from Keras's counters. Summary pads every row
// to 65 columns as Keras does; this example trims the padding so that the
// expected output can be written below.
func ExampleSequential_Summary() {
	mlp.ResetNames()
	model := mlp.NewSequential("",
		mlp.Dense(100, "sigmoid", mlp.InputShape(784)),
		mlp.Dense(10, "softmax"))
	var b strings.Builder
	if err := model.Summary(&b); err != nil {
		log.Fatal(err)
	}

	model = mlp.NewSequential("")
	model.Add(mlp.Flatten(mlp.InputShape(28, 28)))
	model.Add(mlp.Dense(100, "relu"))
	model.Add(mlp.Dense(10, "softmax"))
	if err := model.Summary(&b); err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		fmt.Println(strings.TrimRight(line, " "))
	}
	// Output:
	// Model: "sequential"
	// _________________________________________________________________
	//  Layer (type)                Output Shape              Param #
	// =================================================================
	//  dense (Dense)               (None, 100)               78500
	//
	//  dense_1 (Dense)             (None, 10)                1010
	//
	// =================================================================
	// Total params: 79510 (310.59 KB)
	// Trainable params: 79510 (310.59 KB)
	// Non-trainable params: 0 (0.00 Byte)
	// _________________________________________________________________
	// Model: "sequential_1"
	// _________________________________________________________________
	//  Layer (type)                Output Shape              Param #
	// =================================================================
	//  flatten (Flatten)           (None, 784)               0
	//
	//  dense_2 (Dense)             (None, 100)               78500
	//
	//  dense_3 (Dense)             (None, 10)                1010
	//
	// =================================================================
	// Total params: 79510 (310.59 KB)
	// Trainable params: 79510 (310.59 KB)
	// Non-trainable params: 0 (0.00 Byte)
	// _________________________________________________________________
}

// The tutorial's last cells: load Fashion-MNIST, split off 20 % for
// validation with scikit-learn's split (random_state=42), train the ReLU
// model with Adam for five epochs and evaluate it. The tutorial shows
// Keras's progress bars (the zero FitConfig and EvalConfig draw them too);
// this example trains silently so that its output can be checked: the
// exact loss depends on the kernel level, the accuracy lands near 0.88.
func Example() {
	train, _, err := mnist.LoadFashion("")
	if err != nil {
		log.Fatal(err)
	}
	const width = 28 * 28
	x := train.Scaled()
	trainIdx, valIdx := mnist.TrainTestSplit(train.N, 0.2, 42)
	xTrain := make([]float32, len(trainIdx)*width)
	yTrain := make([]int32, len(trainIdx))
	xVal := make([]float32, len(valIdx)*width)
	yVal := make([]int32, len(valIdx))
	mnist.GatherRows(xTrain, x, width, trainIdx)
	mnist.GatherRows(yTrain, train.Labels, 1, trainIdx)
	mnist.GatherRows(xVal, x, width, valIdx)
	mnist.GatherRows(yVal, train.Labels, 1, valIdx)

	mlp.SetRandomSeed(42)
	model := mlp.NewSequential("")
	model.Add(mlp.Flatten(mlp.InputShape(28, 28)))
	model.Add(mlp.Dense(100, "relu"))
	model.Add(mlp.Dense(10, "softmax"))
	if err := model.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	if _, err := model.Fit(xTrain, yTrain, mlp.FitConfig{Epochs: 5, Verbose: mlp.VerboseSilent}); err != nil {
		log.Fatal(err)
	}
	scores, err := model.EvaluateWith(xVal, yVal, mlp.EvalConfig{Verbose: mlp.VerboseSilent})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trained on %d images, validated on %d\n", len(yTrain), len(yVal))
	fmt.Println("validation accuracy above 0.86:", scores.Accuracy > 0.86)
	// Output:
	// trained on 48000 images, validated on 12000
	// validation accuracy above 0.86: true
}

// Predict into a caller-owned buffer allocates nothing once warmed up,
// which suits serving.
func ExampleSequential_Predict() {
	mlp.SetRandomSeed(1)
	model := mlp.NewSequential("classifier",
		mlp.Dense(8, "relu", mlp.InputShape(4)),
		mlp.Dense(3, "softmax"))
	x := []float32{0.1, 0.2, 0.3, 0.4, 1, 0, 1, 0}
	probs := make([]float32, 2*3)
	if err := model.Predict(x, probs); err != nil {
		log.Fatal(err)
	}
	for i := range 2 {
		var sum float32
		for _, p := range probs[3*i : 3*i+3] {
			sum += p
		}
		fmt.Printf("sample %d: probabilities sum to %.3f\n", i, sum)
	}
	// Output:
	// sample 0: probabilities sum to 1.000
	// sample 1: probabilities sum to 1.000
}
