package onnx

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// randomize gives every weight of m, biases included, a value from a
// seeded generator, so that a test sees a kernel or bias that went astray
// (Glorot's initial biases are all zero).
func randomize(t *testing.T, m *mlp.Sequential, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	w := m.Weights()
	shapes := m.WeightShapes()
	for k, v := range w {
		// Kernels scaled by 1/sqrt(inputs), as trained layers are, so
		// that outputs stay of order 1 through any depth.
		scale := 0.3
		if len(shapes[k]) == 2 {
			scale = 1 / math.Sqrt(float64(shapes[k][0]))
		}
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
}

// inputs returns n samples of size features, uniform in [0, 1).
func inputs(n, features int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n*features)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

func predict(t *testing.T, m *mlp.Sequential, x []float32) []float32 {
	t.Helper()
	out := make([]float32, len(x)/m.InputSize()*m.OutputSize())
	if err := m.Predict(x, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameBits reports the first index where a and b differ bit for bit.
func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func writeBytes(t *testing.T, m *mlp.Sequential) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// refLayer is one Dense layer of the float64 reference forward pass.
type refLayer struct {
	in, units int
	kernel    []float32 // (in, units) row-major
	bias      []float32
	act       string
}

// refForward computes the layers on x (n rows) in float64: an oracle
// independent of mlp's kernels and of the importer.
func refForward(layers []refLayer, x []float32, n int) []float64 {
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	for _, l := range layers {
		next := make([]float64, n*l.units)
		for r := range n {
			row := next[r*l.units : (r+1)*l.units]
			for u := range l.units {
				s := float64(l.bias[u])
				for k := range l.in {
					s += cur[r*l.in+k] * float64(l.kernel[k*l.units+u])
				}
				row[u] = s
			}
			switch l.act {
			case "relu":
				for u := range row {
					row[u] = math.Max(row[u], 0)
				}
			case "sigmoid":
				for u := range row {
					row[u] = 1 / (1 + math.Exp(-row[u]))
				}
			case "tanh":
				for u := range row {
					row[u] = math.Tanh(row[u])
				}
			case "softmax":
				mx := math.Inf(-1)
				for _, v := range row {
					mx = math.Max(mx, v)
				}
				sum := 0.0
				for u := range row {
					row[u] = math.Exp(row[u] - mx)
					sum += row[u]
				}
				for u := range row {
					row[u] /= sum
				}
			}
		}
		cur = next
	}
	return cur
}

// maxAbsDiff64 compares float32 outputs with the float64 reference.
func maxAbsDiff64(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}
