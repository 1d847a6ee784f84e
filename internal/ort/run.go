package ort

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

//go:embed run.js
var runJS []byte

// Job is one model to run: an .onnx file and its input tensor.
type Job struct {
	Model string    // path of the .onnx file
	X     []float32 // the input, row-major
	Shape []int     // the input's dimensions, batch first
}

// Result is what ONNX Runtime computed for a Job.
type Result struct {
	Y       []float32 // the first output, row-major
	Dims    []int     // its dimensions
	Inputs  []string  // the session's input names
	Outputs []string  // the session's output names
}

// Run runs every job in one node process, each model in its own session
// with one intra-op thread, and returns their first outputs. Inputs and
// outputs travel as raw little-endian float32 files in a temporary
// directory, which Run removes.
func (r *Runtime) Run(ctx context.Context, jobs []Job) ([]Result, error) {
	tmp, err := os.MkdirTemp("", "simdmlp-ort-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	script := filepath.Join(tmp, "run.js")
	if err := os.WriteFile(script, runJS, 0o644); err != nil {
		return nil, err
	}
	type spec struct {
		Model  string `json:"model"`
		Input  string `json:"input"`
		Shape  []int  `json:"shape"`
		Output string `json:"output"`
	}
	specs := make([]spec, len(jobs))
	for i, j := range jobs {
		model, err := filepath.Abs(j.Model)
		if err != nil {
			return nil, err
		}
		specs[i] = spec{
			Model:  model,
			Input:  filepath.Join(tmp, "x"+strconv.Itoa(i)+".f32"),
			Shape:  j.Shape,
			Output: filepath.Join(tmp, "y"+strconv.Itoa(i)+".f32"),
		}
		if err := WriteF32(specs[i].Input, j.X); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(specs)
	if err != nil {
		return nil, err
	}
	jobsFile := filepath.Join(tmp, "jobs.json")
	if err := os.WriteFile(jobsFile, b, 0o644); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, r.Node, script, r.Dir, jobsFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ort: node %s: %v\n%s", filepath.Base(script), err, tail(stderr.Bytes()))
	}
	results := make([]Result, 0, len(jobs))
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() && len(results) < len(jobs) {
		var line struct {
			Inputs  []string `json:"inputs"`
			Outputs []string `json:"outputs"`
			Dims    []int    `json:"dims"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("ort: unexpected output line %q: %v", sc.Text(), err)
		}
		y, err := ReadF32(specs[len(results)].Output)
		if err != nil {
			return nil, err
		}
		results = append(results, Result{Y: y, Dims: line.Dims, Inputs: line.Inputs, Outputs: line.Outputs})
	}
	if len(results) != len(jobs) {
		return nil, fmt.Errorf("ort: node reported %d results for %d jobs:\n%s", len(results), len(jobs), tail(stdout.Bytes()))
	}
	return results, nil
}

// WriteF32 writes v to path as raw little-endian float32.
func WriteF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadF32 reads a raw little-endian float32 file.
func ReadF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32 values", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
