// Command ortpeer measures ONNX Runtime beside simdmlp: it builds bench/'s
// tutorial model (package tutorial: the weights the Go benchmarks use),
// exports it with onnx.Save, computes its Predictor's outputs on 12000
// random inputs of Fashion-MNIST's shape, and runs peers/ort_mlp.js in
// Node.js on the same file and inputs. The script checks ONNX Runtime's
// outputs against simdmlp's (within 1e-5) and then times one-sample and
// 12000-sample predictions on one thread, printing Go benchmark lines
// (impl=onnxruntime) that go into bench-peers.txt beside the Go results,
// and the time of a call to a one-weight model (a '#' line), the fixed
// cost every call pays.
//
//	cd bench && go run ./cmd/ortpeer [-reps 5] [-min-time 1s] [-script peers/ort_mlp.js]
//
// ONNX Runtime is onnxruntime-node, found as the tests find it
// ($SIMDMLP_ORT_DIR, else the user cache, installed there with npm on
// first use; see internal/ort).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/simdmlp/simdmlp/bench/internal/tutorial"
	"github.com/simdmlp/simdmlp/internal/ort"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mlp/onnx"
)

// samples is the batch of BenchmarkPredictorBatch: the evaluation split.
const samples = 12000

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ortpeer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reps := fs.Int("reps", 5, "repetitions of each measurement (benchstat wants at least 6 for a confidence interval)")
	minTime := fs.Duration("min-time", time.Second, "time each repetition fills, and the warm-up before the first")
	script := fs.String("script", "peers/ort_mlp.js", "the node script that runs ONNX Runtime")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *reps < 1 || *minTime <= 0 {
		fmt.Fprintln(stderr, "ortpeer: want -reps ≥ 1, -min-time > 0 and no arguments")
		return 2
	}
	if err := measure(*script, *reps, *minTime, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "ortpeer: %v\n", err)
		return 1
	}
	return 0
}

// measure writes the model, inputs and expected outputs into a temporary
// directory and runs the script on them, its output going to stdout.
func measure(script string, reps int, minTime time.Duration, stdout, stderr io.Writer) error {
	rt, err := ort.Find()
	if err != nil {
		return err
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("%v (run from bench/, or give -script)", err)
	}
	dir, err := os.MkdirTemp("", "ortpeer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	m, err := tutorial.Model()
	if err != nil {
		return err
	}
	model := filepath.Join(dir, "tutorial.onnx")
	if err := onnx.Save(m, model); err != nil {
		return err
	}
	// Random pixels in [0, 1), as bench/'s benchData: the time of a
	// forward pass does not depend on the values.
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, samples*tutorial.Pixels)
	for i := range x {
		x[i] = r.Float32()
	}
	p, err := m.Predictor()
	if err != nil {
		return err
	}
	want := make([]float32, samples*tutorial.Classes)
	if err := p.Predict(x, samples, want); err != nil {
		return err
	}
	// The smallest model there is, one weight: its time is what any
	// session.run costs, whatever the model.
	tiny := mlp.NewSequential("trivial", mlp.Dense(1, "linear", mlp.InputShape(1)))
	trivial := filepath.Join(dir, "trivial.onnx")
	if err := onnx.Save(tiny, trivial); err != nil {
		return err
	}
	xs, ws := filepath.Join(dir, "x.f32"), filepath.Join(dir, "want.f32")
	if err := ort.WriteF32(xs, x); err != nil {
		return err
	}
	if err := ort.WriteF32(ws, want); err != nil {
		return err
	}
	// The script runs a few seconds per measurement and repetition; the
	// bound only keeps a hung node from blocking make bench-peers forever.
	budget := time.Duration(2*(reps+1))*minTime + 5*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, rt.Node, script, "-ort-dir", rt.Dir, "-model", model, "-x", xs, "-want", ws, "-trivial", trivial,
		"-reps", fmt.Sprint(reps), "-min-time", fmt.Sprint(minTime.Seconds()))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("node %s: %v", script, err)
	}
	return nil
}
