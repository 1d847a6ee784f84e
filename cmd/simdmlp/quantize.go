package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/mlp"
)

// runQuantize is `simdmlp quantize`: a model file written as an int8
// predictor file.
func runQuantize(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("quantize", "-model m.safetensors|m.onnx -o q.safetensors",
		"Writes a saved model's int8 predictor (post-training dynamic quantization:\n"+
			"each Dense kernel as int8 codes with one scale per unit, the inputs of\n"+
			"every layer quantized per sample when it runs) as a safetensors file.\n"+
			"evaluate, predict, show and examples/serve read it as they read a model;\n"+
			"it holds no training state, so it cannot be trained further. The file is\n"+
			"written whole or not at all.", stderr)
	model := fs.String("model", "", "model file to quantize: written by 'simdmlp train -save', or an .onnx file (required)")
	out := fs.String("o", "", "the int8 predictor file to write (.safetensors) (required)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageFail(stderr, "quantize", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *model == "" {
		return usageFail(stderr, "quantize", errors.New("-model is required"))
	}
	if *out == "" {
		return usageFail(stderr, "quantize", errors.New("-o is required"))
	}
	if isONNX(*out) {
		// Another command would read the name as ONNX.
		return usageFail(stderr, "quantize", fmt.Errorf("-o %q: the file is written as safetensors, not ONNX; give a name ending in .safetensors", *out))
	}
	if err := atomicfile.CheckWritable(*out); err != nil {
		return fail(stderr, err)
	}
	m, err := loadModel(*model)
	if errors.Is(err, mlp.ErrPredictorFile) {
		return fail(stderr, fmt.Errorf("%s is already an int8 predictor file", *model))
	}
	if err != nil {
		return fail(stderr, err)
	}
	q, err := m.QuantizedPredictor()
	if err != nil {
		return fail(stderr, withoutMLP(err))
	}
	if err := q.Save(*out); err != nil {
		return fail(stderr, withoutMLP(err))
	}
	var before, after int64
	if fi, err := os.Stat(*model); err == nil {
		before = fi.Size()
	}
	if fi, err := os.Stat(*out); err == nil {
		after = fi.Size()
	}
	fmt.Fprintf(stdout, "%s (%s) quantized to int8: %s, %d bytes (the model file has %d)\n", *model, m, *out, after, before)
	return 0
}
