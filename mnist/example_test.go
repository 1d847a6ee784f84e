package mnist_test

import (
	"fmt"
	"log"

	"github.com/simdmlp/simdmlp/mnist"
)

// Loads Fashion-MNIST from wherever it is (downloading it if need be),
// holds out a validation set the way the Keras tutorial does, and gathers
// and scales the validation images. Every copy of Fashion-MNIST it can load
// is verified against the same pinned checksums, so the output is fixed.
func ExampleLoadFashion() {
	train, test, err := mnist.LoadFashion("")
	if err != nil {
		// Errors matching mnist.ErrNotFound or mnist.ErrCorrupt are one
		// line saying which file, what is wrong and what to do.
		fmt.Println(err)
		return
	}
	fmt.Println(train.N, test.N, train.Rows, train.Cols)

	// train_test_split(X_train_full, y_train_full, test_size=0.2,
	// random_state=42), then X_valid / 255.
	trainIdx, valIdx := mnist.TrainTestSplit(train.N, 0.2, 42)
	width := train.Rows * train.Cols
	val := &mnist.Dataset{
		Images: make([]uint8, len(valIdx)*width), Labels: make([]int32, len(valIdx)),
		N: len(valIdx), Rows: train.Rows, Cols: train.Cols,
	}
	if err := mnist.GatherRows(val.Images, train.Images, width, valIdx); err != nil {
		fmt.Println(err)
		return
	}
	if err := mnist.GatherRows(val.Labels, train.Labels, 1, valIdx); err != nil {
		fmt.Println(err)
		return
	}
	xVal := val.Scaled()
	fmt.Println(len(trainIdx), len(valIdx), len(xVal))
	for _, y := range val.Labels[:3] {
		fmt.Println(mnist.FashionClasses[y])
	}
	// Output:
	// 60000 10000 28 28
	// 48000 12000 9408000
	// Bag
	// Bag
	// Sneaker
}

func ExampleTrainTestSplit() {
	// train_test_split(X, y, test_size=0.2, random_state=42) on 60000 rows.
	train, test := mnist.TrainTestSplit(60000, 0.2, 42)
	fmt.Println(len(train), len(test))
	fmt.Println(test[:5], train[:5])

	// Rows are then gathered by index, here from a 5×2 matrix with
	// scikit-learn's docstring example.
	x := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	trainIdx, testIdx := mnist.TrainTestSplit(5, 0.33, 42)
	xTest := make([]float32, len(testIdx)*2)
	if err := mnist.GatherRows(xTest, x, 2, testIdx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(trainIdx, testIdx, xTest)
	// Output:
	// 48000 12000
	// [12628 37730 39991 8525 8279] [48572 38696 13611 35213 31766]
	// [2 0 3] [1 4] [2 3 8 9]
}
