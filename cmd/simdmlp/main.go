// Command simdmlp trains the Keras tutorial's Fashion-MNIST models in pure
// Go.
//
// Usage:
//
//	simdmlp train [flags]               train a model (default: the tutorial's final one)
//	simdmlp tutorial [7-2|7-3] [flags]  replay a tutorial notebook cell by cell
//	simdmlp evaluate -model m.safetensors [-confusion c.png] [-json r.json]
//	simdmlp predict -model m.safetensors image.png…
//	simdmlp show -model m.safetensors [-n 25] grid.png
//	simdmlp export -model m.safetensors -o m.onnx
//	simdmlp quantize -model m.safetensors -o q.safetensors
//
// `simdmlp train -h` lists the training flags: hidden layer sizes,
// activation, optimizer and learning rate, epochs, batch size, seed, data
// directory, kernel level, verbosity, a JSON report file, the model file to
// save (-save) and the training curves to draw (-plot). Flags may be
// written with one dash or two.
//
// tutorial replays chapter 7-2 (deep neural networks) or 7-3 (training a
// neural network model: loss curves, Dropout, saving and loading, the
// ModelCheckpoint and EarlyStopping callbacks) of the Keras book 혼공머신,
// printing each code cell and what Keras prints for it. 7-3 writes its
// models (.safetensors) and figures (PNG) in the -out directory, by
// default a new temporary directory named at the start.
//
// evaluate reports a saved model's test loss and accuracy, its accuracy per
// class and its confusion matrix (also drawn as a PNG with -confusion, and
// the scores as JSON with -json); predict prints the three most probable
// classes of 28×28 images; show draws test images labelled with the
// predicted and true classes. export writes a model as an ONNX file, for
// ONNX Runtime and other engines. These four take an ONNX model (a -model
// name ending in .onnx, read by package mlp/onnx: from PyTorch's or
// tf2onnx's exporters, say) as well as simdmlp's own files. A model whose
// last layer is linear gives logits: evaluate then uses the cross-entropy
// from logits, and predict shows the softmax of the logits.
//
// quantize writes a model's int8 predictor (mlp's QuantizedPredictor:
// int8 weights, inputs quantized per sample at run time), which
// evaluate, predict and show read in place of a model.
//
// The data are found as package mnist finds them: in the -data directory or
// $SIMDMLP_DATA when given (and only there), else in Debian's
// dataset-fashion-mnist, the Keras cache and the user cache, then by a
// download. Exit status: 0 on success, 1 when the data are missing or
// damaged or a run fails (a diverged run included), 2 for bad flags.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: simdmlp <command> [flags]

commands:
  train      train an MLP on Fashion-MNIST (default: the tutorial's final
             model, Flatten → Dense(100, relu) → Dense(10, softmax), Adam,
             5 epochs) and report validation and test accuracy
  tutorial   replay a chapter of the Keras tutorial (혼공머신) cell by
             cell: 7-2 (the default) or 7-3, which writes its models and
             figures in -out DIR (default: a new temporary directory)
  evaluate   test a saved model: accuracy per class, confusion matrix
  predict    classify 28×28 images with a saved model (top 3 classes)
  show       draw test images labelled with a saved model's predictions
  export     write a saved model as an ONNX model (-o m.onnx)
  quantize   write a saved model's int8 predictor (-o q.safetensors)

evaluate, predict, show, export and quantize read simdmlp's model files
and ONNX models (-model m.onnx) alike, and tell them apart by the .onnx
name; evaluate, predict and show also read quantize's int8 files.

Run 'simdmlp <command> -h' for the command's flags.
`

// run is the whole command, with its streams passed in so that tests can
// drive it; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "train":
		return runTrain(args[1:], stdout, stderr)
	case "tutorial":
		return runTutorial(args[1:], stdout, stderr)
	case "evaluate":
		return runEvaluate(args[1:], stdout, stderr)
	case "predict":
		return runPredict(args[1:], stdout, stderr)
	case "show":
		return runShow(args[1:], stdout, stderr)
	case "export":
		return runExport(args[1:], stdout, stderr)
	case "quantize":
		return runQuantize(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "simdmlp: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
