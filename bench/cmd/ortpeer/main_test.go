package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/interoptest"
)

// TestORTPeer runs the ONNX Runtime peer once with short repetitions: the
// export runs in ONNX Runtime, its outputs match the Predictor's (the
// script fails otherwise), and both measurements come out as Go benchmark
// lines that benchstat and peertable read.
func TestORTPeer(t *testing.T) {
	interoptest.ORT(t)
	var out, errs bytes.Buffer
	if code := run([]string{"-script", "../../peers/ort_mlp.js", "-reps", "2", "-min-time", "50ms"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out.String(), errs.String())
	}
	s := out.String()
	for _, name := range []string{"PredictorOne", "PredictorBatch"} {
		re := regexp.MustCompile(`(?m)^Benchmark` + name + `/impl=onnxruntime\t[1-9][0-9]*\t[0-9]+ ns/op$`)
		if n := len(re.FindAllString(s, -1)); n != 2 {
			t.Errorf("%d result lines for %s, want 2:\n%s", n, name, s)
		}
	}
	for _, want := range []string{"# onnxruntime-version: ", "# onnxruntime-check: 12000 samples", "# onnxruntime-call: session.run of a 1x1 Gemm"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	t.Log(s)
}

// TestORTPeerFlags: bad flags are exit status 2, a missing script 1.
func TestORTPeerFlags(t *testing.T) {
	for _, args := range [][]string{{"-reps", "0"}, {"-min-time", "0s"}, {"extra"}, {"-bogus"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
