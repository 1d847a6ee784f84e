package mnist_test

import (
	"fmt"
	"log"

	"github.com/simdmlp/simdmlp/mnist"
)

// Loads Fashion-MNIST from wherever it is (downloading it if need be),
// holds out a validation set the way the Keras tutorial does, and gathers
// the validation images.
func ExampleLoadFashion() {
	train, test, err := mnist.LoadFashion("")
	if err != nil {
		// Errors matching mnist.ErrNotFound or mnist.ErrCorrupt are one
		// line saying which file, what is wrong and what to do.
		log.Fatal(err)
	}
	fmt.Println(train.N, test.N, train.Rows, train.Cols)

	trainIdx, valIdx := mnist.TrainTestSplit(train.N, 0.2, 42)
	x := train.Scaled()
	width := train.Rows * train.Cols
	xVal := make([]float32, len(valIdx)*width)
	yVal := make([]int32, len(valIdx))
	if err := mnist.GatherRows(xVal, x, width, valIdx); err != nil {
		log.Fatal(err)
	}
	if err := mnist.GatherRows(yVal, train.Labels, 1, valIdx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(trainIdx), len(valIdx), mnist.FashionClasses[yVal[0]])
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
