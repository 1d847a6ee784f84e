package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mlp/onnx"
)

// isONNX tells an ONNX model file from a simdmlp one by its name, the only
// thing the commands go by: a .onnx name is read with package onnx, any
// other with mlp.Load (which reads safetensors whatever the name, and
// refuses Keras's .h5 and .keras names).
func isONNX(path string) bool { return strings.EqualFold(filepath.Ext(path), ".onnx") }

// loadModel reads a model file of either kind.
func loadModel(path string) (*mlp.Sequential, error) {
	if isONNX(path) {
		return onnx.Load(path)
	}
	m, err := mlp.Load(path)
	if err != nil {
		return nil, withoutMLP(err)
	}
	return m, nil
}

// runExport is `simdmlp export`: a model file written as an ONNX model.
func runExport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("export", "-model m.safetensors -o m.onnx",
		"Writes a saved model as an ONNX model (opset 13: Flatten, then Gemm and\n"+
			"its activation per Dense layer; Dropout is left out), which ONNX Runtime\n"+
			"and other ONNX engines run. The input is named \"input\" and shaped\n"+
			"[N, the model's input shape] ([N, 28, 28] for a model that starts with\n"+
			"Flatten(28×28), [N, 784] for one that takes 784 values); the output is\n"+
			"\"output\", [N, units of the last layer]. The file is written whole or\n"+
			"not at all.", stderr)
	model := fs.String("model", "", "model file to export: written by 'simdmlp train -save', or an .onnx file (required)")
	out := fs.String("o", "", "the ONNX file to write; its name must end in .onnx (required)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageFail(stderr, "export", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *model == "" {
		return usageFail(stderr, "export", errors.New("-model is required"))
	}
	if *out == "" {
		return usageFail(stderr, "export", errors.New("-o is required"))
	}
	if !isONNX(*out) {
		// A name the reader would not take for ONNX (another command
		// given this file would read it as safetensors) is refused rather
		// than renamed behind the user's back.
		return usageFail(stderr, "export", fmt.Errorf("-o %q: the file is written as ONNX; give a name ending in .onnx", *out))
	}
	if err := atomicfile.CheckWritable(*out); err != nil {
		return fail(stderr, err)
	}
	m, err := loadModel(*model)
	if err != nil {
		return fail(stderr, err)
	}
	if err := onnx.Save(m, *out); err != nil {
		return fail(stderr, err)
	}
	size := int64(0)
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "%s (%s) exported to %s: %d bytes, input [N, %s], output [N, %d]\n",
		*model, m, *out, size, joinInts(m.InputShape()), m.OutputSize())
	if dropped := countDropout(m); dropped > 0 {
		fmt.Fprintf(stdout, "%d Dropout layer(s) left out: they do nothing at inference\n", dropped)
	}
	return 0
}

// joinInts formats a shape's dimensions: "28, 28".
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// countDropout counts the model's Dropout layers, which the export omits.
func countDropout(m *mlp.Sequential) int {
	n := 0
	for _, l := range m.Layers() {
		if l.ClassName() == "Dropout" {
			n++
		}
	}
	return n
}
