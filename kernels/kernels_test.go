package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// API-level tests of every kernel except Sgemm, run on every available
// level. Each output sits between NaN guard cells that must survive, every
// input is compared with a copy afterwards, and each result is checked
// against a float64 reference (exp-based kernels, within the documented
// ulp bound) or against a transcription of its formula with one float32
// rounding per operation (everything else, bit for bit).

// testSizes are the vector lengths of the elementwise tests: every n up to
// three 16-lane vectors plus one, then long ones with odd tails.
func testSizes(r *rand.Rand) []int {
	var ns []int
	for n := 0; n <= 3*16+1; n++ {
		ns = append(ns, n)
	}
	return append(ns, 100, 1000+r.IntN(1000), 3200, 4099)
}

// testShapes are the rows×cols shapes of the row kernels.
func testShapes(r *rand.Rand) [][2]int {
	s := [][2]int{
		{0, 0}, {0, 5}, {3, 0}, {1, 1}, {1, 2}, {2, 1}, {1, 10}, {32, 10}, {5, 7},
		{3, 15}, {3, 16}, {3, 17}, {4, 33}, {2, 49}, {32, 100}, {7, 257},
		// More rows than the cross-entropy assembly's chunk (ceChunk),
		// with columns that take the vector path: a per-chunk quantity
		// used where the batch's belongs shows only here.
		{65, 10}, {130, 17}, {200, 4},
	}
	for range 4 {
		s = append(s, [2]int{1 + r.IntN(40), 1 + r.IntN(70)})
	}
	return s
}

func shapeName(rows, cols int) string { return fmt.Sprintf("%d×%d", rows, cols) }

// unaryKernel is an elementwise activation and how to check it.
type unaryKernel struct {
	name string
	fn   func(dst, x []float32)
	ref  func(float64) float64
	ulp  int64 // −1: bit-exact against ref
}

var unaryKernels = []unaryKernel{
	{"Relu", Relu, func(x float64) float64 {
		if x < 0 {
			return 0
		}
		return x
	}, -1},
	{"Sigmoid", Sigmoid, sigmoid64, sigmoidUlp},
	{"Tanh", Tanh, math.Tanh, tanhUlp},
}

func checkUnary(t *testing.T, k unaryKernel, x, got []float32) {
	t.Helper()
	for i, v := range x {
		want := k.ref(float64(v))
		ok := false
		if k.ulp < 0 {
			ok = math.Float32bits(got[i]) == math.Float32bits(float32(want)) || got[i] != got[i] && want != want
		} else {
			ok = withinUlp(got[i], want, k.ulp)
		}
		if !ok {
			t.Fatalf("%s: n=%d: x[%d] = %v: got %v, want %v", k.name, len(x), i, v, got[i], want)
		}
	}
}

func TestUnaryActivations(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, k := range unaryKernels {
			for _, n := range testSizes(r) {
				x := randInput(r, n, 4, true)
				x0 := clone(x)
				buf, dst := guarded(n)
				k.fn(dst, x)
				checkGuards(t, k.name, buf)
				if i := firstDiff(x, x0); i >= 0 {
					t.Fatalf("%s: n=%d: input x[%d] changed", k.name, n, i)
				}
				checkUnary(t, k, x, dst)
				// In place gives the same bits.
				k.fn(x, x)
				if i := firstDiff(x, dst); i >= 0 {
					t.Fatalf("%s in place: n=%d: [%d] = %v, out of place %v", k.name, n, i, x[i], dst[i])
				}
			}
		}
	})
}

// TestReluSigns pins the documented choices: −0 stays −0, NaN stays NaN.
func TestReluSigns(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		negZero := float32(math.Copysign(0, -1))
		x := []float32{negZero, 0, -1e-45, 1e-45, float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1))}
		want := []float32{negZero, 0, 0, 1e-45, float32(math.NaN()), 0, float32(math.Inf(1))}
		got := make([]float32, len(x))
		Relu(got, x)
		for i := range x {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Errorf("Relu(%v) = %v (%#x), want %v", x[i], got[i], math.Float32bits(got[i]), want[i])
			}
		}
	})
}

// gradKernel is an activation gradient and its formula, written op by op.
type gradKernel struct {
	name string
	act  Activation
	fn   func(dx, dy, y []float32)
	ref  func(dy, y float32) float32
	yGen func(r *rand.Rand) float32 // a plausible activation output
}

var gradKernels = []gradKernel{
	{"ReluGrad", ActReLU, ReluGrad, func(dy, y float32) float32 {
		if y > 0 {
			return dy
		}
		return 0
	}, func(r *rand.Rand) float32 { return max(0, float32(r.NormFloat64())) }},
	{"SigmoidGrad", ActSigmoid, SigmoidGrad, func(dy, y float32) float32 {
		return f32mul(f32mul(dy, y), f32sub(1, y))
	}, func(r *rand.Rand) float32 { return r.Float32() }},
	{"TanhGrad", ActTanh, TanhGrad, func(dy, y float32) float32 {
		return f32mul(dy, f32sub(1, f32mul(y, y)))
	}, func(r *rand.Rand) float32 { return 2*r.Float32() - 1 }},
}

func TestActivationGrads(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(4, 4))
		for _, k := range gradKernels {
			for _, n := range testSizes(r) {
				dy := randInput(r, n, 1, false)
				y := make([]float32, n)
				for i := range y {
					y[i] = k.yGen(r)
				}
				if n > 3 {
					y[0], y[1], y[2] = 0, float32(math.Copysign(0, -1)), 1
				}
				dy0, y0 := clone(dy), clone(y)
				buf, dx := guarded(n)
				k.fn(dx, dy, y)
				checkGuards(t, k.name, buf)
				if firstDiff(dy, dy0) >= 0 || firstDiff(y, y0) >= 0 {
					t.Fatalf("%s: n=%d: an input changed", k.name, n)
				}
				for i := range dx {
					if want := k.ref(dy[i], y[i]); math.Float32bits(dx[i]) != math.Float32bits(want) {
						t.Fatalf("%s: n=%d: dy=%v y=%v: got %v, want %v", k.name, n, dy[i], y[i], dx[i], want)
					}
				}
				// ActivationGrad dispatches to the same kernel.
				buf2, dx2 := guarded(n)
				ActivationGrad(k.act, dx2, dy, y, 1, n)
				checkGuards(t, "ActivationGrad "+k.name, buf2)
				if i := firstDiff(dx2, dx); i >= 0 {
					t.Fatalf("ActivationGrad(%v): n=%d: [%d] = %v, %s gave %v", k.act, n, i, dx2[i], k.name, dx[i])
				}
				// dx may be dy.
				k.fn(dy, dy, y)
				if i := firstDiff(dy, dx); i >= 0 {
					t.Fatalf("%s in place: n=%d: [%d] = %v, want %v", k.name, n, i, dy[i], dx[i])
				}
			}
		}
		// ActLinear copies.
		dy := randInput(r, 37, 1, true)
		buf, dx := guarded(37)
		ActivationGrad(ActLinear, dx, dy, make([]float32, 37), 1, 37)
		checkGuards(t, "ActivationGrad linear", buf)
		if i := firstDiff(dx, dy); i >= 0 {
			t.Fatalf("ActivationGrad(linear): [%d] = %v, want %v", i, dx[i], dy[i])
		}
	})
}

// flushedExp is e^x, or 0 where that is below the smallest normal float32:
// the documented flush of the kernels' exponential.
func flushedExp(x float64) float64 {
	if e := math.Exp(x); e >= minNormal32 {
		return e
	}
	return 0
}

// softmaxRef64 is the exact softmax of the float32 differences x − max,
// the rounding every level (and TF) makes before the exponential, with
// exponentials below 2⁻¹²⁶ counted as 0 as documented.
func softmaxRef64(x []float32) []float64 {
	if len(x) == 0 {
		return nil
	}
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	out := make([]float64, len(x))
	var s float64
	for j, v := range x {
		out[j] = flushedExp(float64(v - m))
		s += out[j]
	}
	for j := range out {
		out[j] /= s
	}
	return out
}

// softmaxRows returns a rows×cols input with rows of several kinds: the
// trainer's small logits, wide-range rows, rows with special values.
func softmaxRows(r *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		switch i % 4 {
		case 0, 1:
			copy(row, randInput(r, cols, 3, false))
		case 2:
			copy(row, randInput(r, cols, 40, false))
		case 3:
			copy(row, randInput(r, cols, 10, true))
		}
	}
	return x
}

func checkSoftmax(t *testing.T, what string, x, got []float32, rows, cols int) {
	t.Helper()
	for i := 0; i < rows; i++ {
		want := softmaxRef64(x[i*cols : (i+1)*cols])
		for j, w := range want {
			if g := got[i*cols+j]; !withinUlp(g, w, softmaxUlp) {
				t.Fatalf("%s %s: row %d %v: [%d] = %v, want %v (%d ulp)", what, shapeName(rows, cols), i,
					x[i*cols:(i+1)*cols], j, g, w, ulpDist(g, float32(w)))
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 5))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			n := rows * cols
			x := softmaxRows(r, rows, cols)
			x0 := clone(x)
			buf, _ := guarded(n)
			// dst runs two cells into the trailing guard: only rows·cols
			// elements may be written.
			dst := buf[guardN : guardN+n+2]
			Softmax(dst, x, rows, cols)
			checkGuards(t, "Softmax", buf)
			if i := firstDiff(x, x0); i >= 0 {
				t.Fatalf("Softmax %s: input x[%d] changed", shapeName(rows, cols), i)
			}
			checkSoftmax(t, "Softmax", x, dst, rows, cols)
			Softmax(x, x, rows, cols)
			if i := firstDiff(x, dst[:n]); i >= 0 {
				t.Fatalf("Softmax in place %s: [%d] = %v, out of place %v", shapeName(rows, cols), i, x[i], dst[i])
			}
		}
	})
}

// TestSoftmaxSpecialRows pins the documented special cases exactly.
func TestSoftmaxSpecialRows(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		x, want []float32
	}{
		{[]float32{1e30, 0}, []float32{1, 0}},
		{[]float32{0, 1e30}, []float32{0, 1}},
		{[]float32{-inf, 0}, []float32{0, 1}},
		{[]float32{-inf, 5, -inf}, []float32{0, 1, 0}},
		{[]float32{math.MaxFloat32, -math.MaxFloat32}, []float32{1, 0}},
		{[]float32{88, -88}, []float32{1, 0}},
		{[]float32{3, 3}, []float32{0.5, 0.5}},
		{[]float32{-1e30, -1e30, -1e30, -1e30}, []float32{0.25, 0.25, 0.25, 0.25}},
		{[]float32{7}, []float32{1}},
		{[]float32{nan}, []float32{nan}},
		{[]float32{1, nan, 2}, []float32{nan, nan, nan}},
		{[]float32{nan, 1, 2}, []float32{nan, nan, nan}},
		{[]float32{1, 2, inf}, []float32{nan, nan, nan}},
		{[]float32{-inf, -inf}, []float32{nan, nan}},
	}
	forEachLevel(t, func(t *testing.T) {
		for _, c := range cases {
			got := make([]float32, len(c.x))
			Softmax(got, c.x, 1, len(c.x))
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(c.want[j]) && !(got[j] != got[j] && c.want[j] != c.want[j]) {
					t.Errorf("Softmax(%v) = %v, want %v", c.x, got, c.want)
					break
				}
			}
			// A NaN row stays NaN next to normal rows, and does not spread.
			two := append(append([]float32(nil), c.x...), make([]float32, len(c.x))...)
			Softmax(two, two, 2, len(c.x))
			for j := range c.x {
				if w := 1 / float32(len(c.x)); two[len(c.x)+j] != w {
					t.Errorf("Softmax: row of zeros after %v gave %v, want %v", c.x, two[len(c.x):], w)
					break
				}
			}
		}
	})
}

func TestSoftmaxGrad(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(6, 6))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			n := rows * cols
			y := softmaxRows(r, rows, cols)
			for i := range y {
				y[i] = r.Float32()
			}
			dy := randInput(r, n, 1, false)
			dy0, y0 := clone(dy), clone(y)
			buf, dx := guarded(n)
			SoftmaxGrad(dx, dy, y, rows, cols)
			checkGuards(t, "SoftmaxGrad", buf)
			if firstDiff(dy, dy0) >= 0 || firstDiff(y, y0) >= 0 {
				t.Fatalf("SoftmaxGrad %s: an input changed", shapeName(rows, cols))
			}
			for i := 0; i < rows; i++ {
				var s float64
				for j := 0; j < cols; j++ {
					s += float64(dy[i*cols+j]) * float64(y[i*cols+j])
				}
				for j := 0; j < cols; j++ {
					k := i*cols + j
					want := float64(y[k]) * (float64(dy[k]) - s)
					// One rounding each of s, dy − s and the product.
					tol := 0x1p-22 * math.Abs(float64(y[k])) * (math.Abs(float64(dy[k])) + math.Abs(s))
					if d := math.Abs(float64(dx[k]) - want); !(d <= tol) {
						t.Fatalf("SoftmaxGrad %s: [%d,%d] = %v, want %v", shapeName(rows, cols), i, j, dx[k], want)
					}
				}
			}
			ActivationGrad(ActSoftmax, dy, dy, y, rows, cols)
			if i := firstDiff(dy, dx); i >= 0 {
				t.Fatalf("ActivationGrad(softmax) in place %s: [%d] = %v, want %v", shapeName(rows, cols), i, dy[i], dx[i])
			}
		}
	})
}

// TestBias checks AddBias bit for bit and requires every fused
// BiasActivation to equal AddBias followed by the activation kernel, bit
// for bit, as documented.
func TestBias(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			n := rows * cols
			x := softmaxRows(r, rows, cols)
			bias := randInput(r, cols, 2, true)
			bias0 := clone(bias)

			buf, sum := guarded(n)
			copy(sum, x)
			AddBias(sum, bias, rows, cols)
			checkGuards(t, "AddBias", buf)
			for k, v := range sum {
				if want := f32add(x[k], bias[k%cols]); math.Float32bits(v) != math.Float32bits(want) {
					t.Fatalf("AddBias %s: [%d] = %v, want %v", shapeName(rows, cols), k, v, want)
				}
			}
			for _, act := range Activations() {
				want := clone(sum)
				active.acts[act].forward(want, want, rows, cols)
				buf, got := guarded(n)
				copy(got, x)
				BiasActivation(act, got, bias, rows, cols)
				checkGuards(t, "BiasActivation", buf)
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("BiasActivation(%v) %s: [%d] = %v, AddBias then %v gives %v", act, shapeName(rows, cols), i, got[i], act, want[i])
				}
			}
			if firstDiff(bias, bias0) >= 0 {
				t.Fatalf("%s: bias changed", shapeName(rows, cols))
			}
		}
	})
}

func TestColSum(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(8, 8))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			x := randInput(r, rows*cols, 1, rows%3 == 0)
			x0 := clone(x)
			buf, dst := guarded(cols)
			for i := range dst {
				dst[i] = float32(math.NaN()) // must be overwritten, not added to
			}
			ColSum(dst, x, rows, cols)
			checkGuards(t, "ColSum", buf)
			if firstDiff(x, x0) >= 0 {
				t.Fatalf("ColSum %s: input changed", shapeName(rows, cols))
			}
			for j := range dst {
				var want float32
				for i := 0; i < rows; i++ {
					want = f32add(want, x[i*cols+j])
				}
				if math.Float32bits(dst[j]) != math.Float32bits(want) && !(dst[j] != dst[j] && want != want) {
					t.Fatalf("ColSum %s: [%d] = %v, want %v (rows summed in order)", shapeName(rows, cols), j, dst[j], want)
				}
			}
		}
	})
}

// ceRef64 is the exact fused cross-entropy of one row from the float32
// differences z − max (exponentials flushed as in softmaxRef64): its loss,
// probabilities, and gradient before the 1/rows scale.
func ceRef64(z []float32, y int) (loss float64, p, g []float64) {
	m := z[0]
	for _, v := range z {
		m = max(m, v)
	}
	p = make([]float64, len(z))
	var other float64
	for j, v := range z {
		p[j] = flushedExp(float64(v - m))
		if j != y {
			other += p[j]
		}
	}
	s := other + p[y]
	if d := float64(z[y]) - float64(m); d == 0 {
		loss = math.Log1p(other)
	} else {
		loss = math.Log(s) - d
	}
	g = make([]float64, len(z))
	for j := range p {
		p[j] /= s
		g[j] = p[j]
	}
	g[y] = -other / s
	return loss, p, g
}

// ceLossOK applies the documented loss bound: relative 2⁻²².
func ceLossOK(got, want float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return got == want || math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= 0x1p-22*math.Abs(want)
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			if cols == 0 {
				if rows == 0 {
					if got := SoftmaxCrossEntropy(nil, nil, nil, nil, 0, 0); got != 0 {
						t.Fatalf("0×0: loss %v", got)
					}
				}
				continue
			}
			n := rows * cols
			z := softmaxRows(r, rows, cols)
			labels := make([]int32, rows)
			for i := range labels {
				labels[i] = int32(r.IntN(cols))
			}
			z0 := clone(z)
			pbuf, probs := guarded(n)
			gbuf, grad := guarded(n)
			loss := SoftmaxCrossEntropy(probs, grad, z, labels, rows, cols)
			checkGuards(t, "SoftmaxCrossEntropy probs", pbuf)
			checkGuards(t, "SoftmaxCrossEntropy grad", gbuf)
			if firstDiff(z, z0) >= 0 {
				t.Fatalf("SoftmaxCrossEntropy %s: logits changed", shapeName(rows, cols))
			}
			invB := 1 / float64(rows)
			var wantSum float64
			for i := 0; i < rows; i++ {
				row := z[i*cols : (i+1)*cols]
				wl, wp, wg := ceRef64(row, int(labels[i]))
				wantSum += wl
				if got := SoftmaxCrossEntropy(nil, nil, row, labels[i:i+1], 1, cols); !ceLossOK(got, wl) {
					t.Fatalf("SoftmaxCrossEntropy %s row %d %v label %d: loss %v, want %v", shapeName(rows, cols), i, row, labels[i], got, wl)
				}
				for j := range row {
					k := i*cols + j
					if !withinUlp(probs[k], wp[j], softmaxUlp) {
						t.Fatalf("SoftmaxCrossEntropy %s row %d %v: probs[%d] = %v, want %v", shapeName(rows, cols), i, row, j, probs[k], wp[j])
					}
					if !withinUlp(grad[k], wg[j]*invB, softmaxUlp) {
						t.Fatalf("SoftmaxCrossEntropy %s row %d %v label %d: grad[%d] = %v, want %v", shapeName(rows, cols), i, row, labels[i], j, grad[k], wg[j]*invB)
					}
				}
			}
			if !ceLossOK(loss, wantSum) {
				t.Fatalf("SoftmaxCrossEntropy %s: loss %v, want %v", shapeName(rows, cols), loss, wantSum)
			}
			// nil outputs skip writing and change nothing else.
			p2 := make([]float32, n)
			g2 := make([]float32, n)
			for _, c := range []struct{ p, g []float32 }{{nil, nil}, {p2, nil}, {nil, g2}} {
				clear(p2)
				clear(g2)
				l2 := SoftmaxCrossEntropy(c.p, c.g, z, labels, rows, cols)
				if math.Float64bits(l2) != math.Float64bits(loss) && !(math.IsNaN(l2) && math.IsNaN(loss)) {
					t.Fatalf("%s: loss with probs=%v grad=%v is %v, with both %v", shapeName(rows, cols), c.p != nil, c.g != nil, l2, loss)
				}
				if c.p != nil && firstDiff(p2, probs) >= 0 {
					t.Fatalf("%s: probs without grad differ", shapeName(rows, cols))
				}
				if c.g != nil && firstDiff(g2, grad) >= 0 {
					t.Fatalf("%s: grad without probs differ", shapeName(rows, cols))
				}
			}
		}
	})
}

// TestSoftmaxCrossEntropyExtremes: logits at ±88, 1e30 apart, or the
// whole float32 range apart still give a finite loss and the right
// gradient; a confident correct prediction keeps its tiny loss and
// gradient instead of rounding them to 0.
func TestSoftmaxCrossEntropyExtremes(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		z     []float32
		label int32
		loss  float64
		grad  []float32 // batch of one: grad = probs − onehot
	}{
		{[]float32{1e30, 0}, 0, 0, []float32{0, 0}},
		{[]float32{1e30, 0}, 1, 1e30, []float32{1, -1}},
		{[]float32{88, -88}, 1, 176, []float32{1, -1}},
		{[]float32{-88, 88}, 1, 0, []float32{0, 0}},
		{[]float32{math.MaxFloat32, -math.MaxFloat32}, 1, 2 * math.MaxFloat32, []float32{1, -1}},
		{[]float32{0, 0, 0, 0}, 2, math.Log(4), []float32{0.25, 0.25, -0.75, 0.25}},
		// e^-30 ≈ 9.4e-14: both the loss log1p(e^-30) and the label's
		// gradient keep their relative precision.
		{[]float32{30, 0}, 0, math.Log1p(math.Exp(-30)), []float32{-float32(math.Exp(-30) / (1 + math.Exp(-30))), float32(math.Exp(-30) / (1 + math.Exp(-30)))}},
	}
	forEachLevel(t, func(t *testing.T) {
		for _, c := range cases {
			cols := len(c.z)
			probs := make([]float32, cols)
			grad := make([]float32, cols)
			loss := SoftmaxCrossEntropy(probs, grad, c.z, []int32{c.label}, 1, cols)
			if !ceLossOK(loss, c.loss) {
				t.Errorf("SoftmaxCrossEntropy(%v, label %d) loss = %v, want %v", c.z, c.label, loss, c.loss)
			}
			for j := range grad {
				if !withinUlp(grad[j], float64(c.grad[j]), softmaxUlp) {
					t.Errorf("SoftmaxCrossEntropy(%v, label %d) grad = %v, want %v", c.z, c.label, grad, c.grad)
					break
				}
			}
		}
		// A NaN logit makes its row's loss and outputs NaN, and nothing else.
		z := []float32{1, nan, 2, 0, 1, 2}
		probs := make([]float32, 6)
		grad := make([]float32, 6)
		loss := SoftmaxCrossEntropy(probs, grad, z, []int32{0, 2}, 2, 3)
		if !math.IsNaN(loss) {
			t.Errorf("loss with a NaN logit = %v, want NaN", loss)
		}
		for j := 0; j < 3; j++ {
			if probs[j] == probs[j] || grad[j] == grad[j] {
				t.Errorf("row with a NaN logit: probs %v grad %v, want NaN", probs[:3], grad[:3])
				break
			}
			if probs[3+j] != probs[3+j] || grad[3+j] != grad[3+j] {
				t.Errorf("row after a NaN row: probs %v grad %v", probs[3:], grad[3:])
				break
			}
		}
	})
}

// TestSoftmaxCrossEntropyBatchScale: the gradient is scaled by 1/rows for
// any batch size, including the partial last batch.
func TestSoftmaxCrossEntropyBatchScale(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, rows := range []int{1, 3, 7, 32, 33} {
			z := make([]float32, rows*2) // all zero: probs 1/2 each
			labels := make([]int32, rows)
			grad := make([]float32, rows*2)
			loss := SoftmaxCrossEntropy(nil, grad, z, labels, rows, 2)
			if want := float64(rows) * math.Ln2; !ceLossOK(loss, want) {
				t.Errorf("rows=%d: loss %v, want %v", rows, loss, want)
			}
			for i := 0; i < rows; i++ {
				if w := float32(0.5 / float64(rows)); grad[2*i] != -w || grad[2*i+1] != w {
					t.Fatalf("rows=%d: grad row %d = %v, want ±%v", rows, i, grad[2*i:2*i+2], w)
				}
			}
		}
	})
}

// argmaxRef is Argmax's rule written plainly: the first index whose value
// compares greater than everything before it, starting from index 0.
func argmaxRef(row []float32) int32 {
	bi := 0
	for j := range row {
		if row[j] > row[bi] {
			bi = j
		}
	}
	return int32(bi)
}

func TestArgmaxCountCorrect(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(10, 10))
		for _, sh := range testShapes(r) {
			rows, cols := sh[0], sh[1]
			if cols == 0 && rows > 0 {
				continue
			}
			x := make([]float32, rows*cols)
			for k := range x {
				// Few distinct values, so that ties are common.
				x[k] = float32(r.IntN(4))
				if r.IntN(10) == 0 {
					x[k] = specials[r.IntN(len(specials))]
				}
			}
			x0 := clone(x)
			dst := make([]int32, rows+2)
			dst[rows], dst[rows+1] = -7, -7
			Argmax(dst[:rows], x, rows, cols)
			if dst[rows] != -7 || dst[rows+1] != -7 {
				t.Fatalf("Argmax %s wrote past dst", shapeName(rows, cols))
			}
			labels := make([]int32, rows)
			want := 0
			for i := 0; i < rows; i++ {
				w := argmaxRef(x[i*cols : (i+1)*cols])
				if dst[i] != w {
					t.Fatalf("Argmax %s: row %d %v: %d, want %d", shapeName(rows, cols), i, x[i*cols:(i+1)*cols], dst[i], w)
				}
				labels[i] = int32(r.IntN(cols + 1)) // cols itself never matches
				if labels[i] == w {
					want++
				}
			}
			if got := CountCorrect(x, labels, rows, cols); got != want {
				t.Fatalf("CountCorrect %s: %d, want %d", shapeName(rows, cols), got, want)
			}
			if firstDiff(x, x0) >= 0 {
				t.Fatalf("%s: x changed", shapeName(rows, cols))
			}
		}
		nan := float32(math.NaN())
		negZero := float32(math.Copysign(0, -1))
		for _, c := range []struct {
			row  []float32
			want int32
		}{
			{[]float32{1, 3, 3, 2}, 1},
			{[]float32{negZero, 0}, 0},
			{[]float32{0, negZero}, 0},
			{[]float32{nan, 5, 1}, 0},
			{[]float32{1, nan, 5}, 2},
			{[]float32{1, nan, 0}, 0},
			{[]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
		} {
			var got [1]int32
			Argmax(got[:], c.row, 1, len(c.row))
			if got[0] != c.want {
				t.Errorf("Argmax(%v) = %d, want %d", c.row, got[0], c.want)
			}
		}
	})
}

// The optimizer transcriptions: Keras 2.14's update_step for one element,
// one TF op per call, with the package's rule for the slots that decay
// (slotFlush below).

// slotFlush is the rule the package documents (flushSlot in
// ref_optim.go), written here from its statement instead of its code: a
// slot value strictly between −2⁻⁹⁵ and 2⁻⁹⁵ is stored as +0. TF runs on
// CPU with flush-to-zero and denormals-are-zero, so Keras never stores a
// subnormal slot either, although its FTZ rounding differs at the edge.
func slotFlush(x float32) float32 {
	if x > -0x1p-95 && x < 0x1p-95 {
		return 0
	}
	return x
}

func sgdRef(theta, m, g float32, p SGDParams) (float32, float32) {
	m = slotFlush(f32add(f32mul(-g, p.LR), f32mul(m, p.Momentum)))
	if p.Nesterov {
		return f32add(theta, f32add(f32mul(-g, p.LR), f32mul(m, p.Momentum))), m
	}
	return f32add(theta, m), m
}

func adagradRef(theta, a, g float32, p AdagradParams) (float32, float32) {
	a = f32add(a, f32mul(g, g))
	return f32sub(theta, f32div(f32mul(p.LR, g), f32sqrt(f32add(a, p.Epsilon)))), a
}

func rmspropRef(theta, v, mom, mg, g float32, p RMSpropParams) (float32, float32, float32, float32) {
	v = slotFlush(f32add(f32mul(p.Rho, v), f32mul(p.OneMinusRho, f32mul(g, g))))
	var d float32
	if p.Centered {
		mg = slotFlush(f32add(f32mul(p.Rho, mg), f32mul(p.OneMinusRho, g)))
		d = f32add(f32sub(v, f32mul(mg, mg)), p.Epsilon)
	} else {
		d = f32add(v, p.Epsilon)
	}
	inc := f32mul(f32mul(p.LR, g), f32div(1, f32sqrt(d)))
	if p.Momentum > 0 {
		mom = slotFlush(f32add(f32mul(p.Momentum, mom), inc))
		return f32sub(theta, mom), v, mom, mg
	}
	return f32sub(theta, inc), v, mom, mg
}

func adamRef(theta, m, v, vhat, g float32, p AdamParams) (float32, float32, float32, float32) {
	m = slotFlush(f32add(m, f32mul(f32sub(g, m), p.OneMinusBeta1)))
	v = slotFlush(f32add(v, f32mul(f32sub(f32mul(g, g), v), p.OneMinusBeta2)))
	vv := v
	if p.Amsgrad {
		if !(vhat >= v) {
			vhat = v
		}
		vhat = slotFlush(vhat)
		vv = vhat
	}
	return f32sub(theta, f32div(f32mul(m, p.Alpha), f32add(f32sqrt(vv), p.Epsilon))), m, v, vhat
}

// optState is one optimizer's vectors, each between guard cells.
type optState struct {
	bufs [][]float32
	vecs [][]float32 // theta, slots..., g
}

func newOptState(r *rand.Rand, n, nvec int, positive []bool) *optState {
	s := &optState{}
	for k := 0; k < nvec; k++ {
		buf, v := guarded(n)
		for i := range v {
			x := float32(r.NormFloat64())
			if positive[k] {
				x = float32(r.ExpFloat64() * 0.01)
			}
			v[i] = x
		}
		if n > 2 && k == nvec-1 {
			v[0], v[1] = 0, float32(math.Copysign(0, -1)) // zero gradients
		}
		s.bufs = append(s.bufs, buf)
		s.vecs = append(s.vecs, v)
	}
	return s
}

func (s *optState) check(t *testing.T, what string) {
	t.Helper()
	for _, b := range s.bufs {
		checkGuards(t, what, b)
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

func TestOptimizerSteps(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 11))
		for _, n := range testSizes(r) {
			for _, p := range []SGDParams{{0.01, 0, false}, {0.1, 0.9, false}, {0.01, 0.9, true}, {0.3, 0.5, true}} {
				s := newOptState(r, n, 3, []bool{false, false, false})
				th, m, g := clone(s.vecs[0]), clone(s.vecs[1]), clone(s.vecs[2])
				SGDStep(s.vecs[0], s.vecs[1], s.vecs[2], p)
				s.check(t, "SGDStep")
				for i := range th {
					wt, wm := sgdRef(th[i], m[i], g[i], p)
					if !sameBits(s.vecs[0][i], wt) || !sameBits(s.vecs[1][i], wm) || !sameBits(s.vecs[2][i], g[i]) {
						t.Fatalf("SGDStep %+v n=%d [%d]: θ, m = %v, %v; want %v, %v", p, n, i, s.vecs[0][i], s.vecs[1][i], wt, wm)
					}
				}
			}
			for _, p := range []AdagradParams{{0.001, 1e-7}, {0.1, 1e-3}} {
				s := newOptState(r, n, 3, []bool{false, true, false})
				th, a, g := clone(s.vecs[0]), clone(s.vecs[1]), clone(s.vecs[2])
				AdagradStep(s.vecs[0], s.vecs[1], s.vecs[2], p)
				s.check(t, "AdagradStep")
				for i := range th {
					wt, wa := adagradRef(th[i], a[i], g[i], p)
					if !sameBits(s.vecs[0][i], wt) || !sameBits(s.vecs[1][i], wa) || !sameBits(s.vecs[2][i], g[i]) {
						t.Fatalf("AdagradStep %+v n=%d [%d]: θ, a = %v, %v; want %v, %v", p, n, i, s.vecs[0][i], s.vecs[1][i], wt, wa)
					}
				}
			}
			for _, p := range []RMSpropParams{
				{0.001, 0.9, 0.1, 0, 1e-7, false},
				{0.001, 0.9, 0.1, 0.9, 1e-7, false},
				{0.001, 0.9, 0.1, 0, 1e-7, true},
				{0.01, 0.8, 0.2, 0.5, 1e-6, true},
			} {
				s := newOptState(r, n, 5, []bool{false, true, false, false, false})
				th, v, mom, mg, g := clone(s.vecs[0]), clone(s.vecs[1]), clone(s.vecs[2]), clone(s.vecs[3]), clone(s.vecs[4])
				// The buffers the parameters say are unused are passed as nil
				// or as vectors that must stay untouched.
				momArg, mgArg := s.vecs[2], s.vecs[3]
				if p.Momentum == 0 && n%2 == 0 {
					momArg = nil
				}
				if !p.Centered && n%2 == 1 {
					mgArg = nil
				}
				RMSpropStep(s.vecs[0], s.vecs[1], momArg, mgArg, s.vecs[4], p)
				s.check(t, "RMSpropStep")
				for i := range th {
					wt, wv, wmom, wmg := rmspropRef(th[i], v[i], mom[i], mg[i], g[i], p)
					got := [5]float32{s.vecs[0][i], s.vecs[1][i], s.vecs[2][i], s.vecs[3][i], s.vecs[4][i]}
					want := [5]float32{wt, wv, wmom, wmg, g[i]}
					for k := range got {
						if !sameBits(got[k], want[k]) {
							t.Fatalf("RMSpropStep %+v n=%d [%d]: θ, v, mom, mg, g = %v; want %v", p, n, i, got, want)
						}
					}
				}
			}
			for _, p := range []AdamParams{
				{0.000316225662, 0.1, 0.001, 1e-7, false},
				{0.000316225662, 0.1, 0.001, 1e-7, true},
				{0.01, 0.2, 0.01, 1e-3, true},
			} {
				s := newOptState(r, n, 5, []bool{false, false, true, true, false})
				th, m, v, vh, g := clone(s.vecs[0]), clone(s.vecs[1]), clone(s.vecs[2]), clone(s.vecs[3]), clone(s.vecs[4])
				vhArg := s.vecs[3]
				if !p.Amsgrad && n%2 == 0 {
					vhArg = nil
				}
				AdamStep(s.vecs[0], s.vecs[1], s.vecs[2], vhArg, s.vecs[4], p)
				s.check(t, "AdamStep")
				for i := range th {
					wt, wm, wv, wvh := adamRef(th[i], m[i], v[i], vh[i], g[i], p)
					got := [5]float32{s.vecs[0][i], s.vecs[1][i], s.vecs[2][i], s.vecs[3][i], s.vecs[4][i]}
					want := [5]float32{wt, wm, wv, wvh, g[i]}
					for k := range got {
						if !sameBits(got[k], want[k]) {
							t.Fatalf("AdamStep %+v n=%d [%d]: θ, m, v, v̂, g = %v; want %v", p, n, i, got, want)
						}
					}
				}
			}
		}
	})
}

// optTheta0 and optGrads are the three-step scenario of
// TestOptimizerScenarios.
var (
	optTheta0 = []float32{0.5, -1.25, 3, 0, 1e-3}
	optGrads  = [3][]float32{
		{0.1, -0.2, 0.3, 0, 5},
		{0.05, 0.1, -0.3, 1e-4, -5},
		{-0.1, 0, 0.2, 1e-4, 0},
	}
)

// TestOptimizerScenarios runs three Adam steps (with and without AMSGrad)
// and three centered RMSprop steps with momentum at Keras's defaults, and
// compares with numbers computed independently by this Python script,
// which emulates float32 by rounding every double result through struct
// (exact for + − × ÷ sqrt of float32 operands):
//
//	import struct, math
//	def f(x): return struct.unpack('f', struct.pack('f', x))[0]
//	g = [[f(v) for v in r] for r in [[0.1, -0.2, 0.3, 0.0, 5.0],
//	     [0.05, 0.1, -0.3, 1e-4, -5.0], [-0.1, 0.0, 0.2, 1e-4, 0.0]]]
//	th0 = [f(v) for v in [0.5, -1.25, 3.0, 0.0, 1e-3]]
//	lr, b1, b2, eps = f(0.001), f(0.9), f(0.999), f(1e-7)
//	omb1, omb2 = f(1 - 0.9), f(1 - 0.999)
//	for ams in (False, True):
//	    th = th0[:]; m = [0.0]*5; v = [0.0]*5; vh = [0.0]*5
//	    for t in (1, 2, 3):
//	        b1p = f(math.pow(b1, t)); b2p = f(math.pow(b2, t))
//	        alpha = f(f(lr * f(math.sqrt(f(1 - b2p)))) / f(1 - b1p))
//	        for i in range(5):
//	            gi = g[t-1][i]
//	            m[i] = f(m[i] + f(f(gi - m[i]) * omb1))
//	            v[i] = f(v[i] + f(f(f(gi*gi) - v[i]) * omb2))
//	            vv = v[i]
//	            if ams: vh[i] = max(vh[i], v[i]); vv = vh[i]
//	            th[i] = f(th[i] - f(f(m[i]*alpha) / f(f(math.sqrt(vv)) + eps)))
//	        print(alpha, th)
//	rho, omr, mu = f(0.9), f(1 - 0.9), f(0.9)
//	th = th0[:]; v = [0.0]*5; mg = [0.0]*5; mom = [0.0]*5
//	for t in (1, 2, 3):
//	    for i in range(5):
//	        gi = g[t-1][i]
//	        v[i] = f(f(rho*v[i]) + f(omr*f(gi*gi)))
//	        mg[i] = f(f(rho*mg[i]) + f(omr*gi))
//	        d = f(f(v[i] - f(mg[i]*mg[i])) + eps)
//	        inc = f(f(lr*gi) * f(1 / f(math.sqrt(d))))
//	        mom[i] = f(f(mu*mom[i]) + inc)
//	        th[i] = f(th[i] - mom[i])
//	    print(th)
//
// (printed with '%.9g', which round-trips float32).
func TestOptimizerScenarios(t *testing.T) {
	alphas := []float32{0.000316225662, 0.000235314379, 0.000202009876}
	adamWant := [3][]float32{
		{0.499000043, -1.24900007, 2.99900007, 0, 7.33416528e-09},
		{0.498067886, -1.24873376, 2.99905276, -0.000721319229, 5.26383774e-05},
		{0.49795711, -1.24852788, 2.99881697, -0.00156099827, 9.3322582e-05},
	}
	amsWant3 := []float32{0.49795711, -1.248528, 2.99881697, -0.00156099827, 9.33022384e-05}
	adamM := []float32{0.00260000024, -0.00720000034, 0.0172999986, 1.89999992e-05, -0.0450000092}
	adamV := []float32{2.2477514e-05, 4.99100461e-05, 0.000219730107, 1.99899992e-11, 0.0499250256}
	amsVhat := []float32{2.2477514e-05, 4.99600064e-05, 0.000219730107, 1.99899992e-11, 0.0499750003}
	rmsWant := [3][]float32{
		{0.496666849, -1.24666667, 2.99666667, 0, -0.00233333372},
		{0.492048293, -1.24515152, 2.99596143, -0.000314814271, -0.00303857261},
		{0.490111977, -1.24378788, 2.99387932, -0.000911969226, -0.00367328757},
	}
	rmsV := []float32{0.0020349999, 0.00413999986, 0.01939, 1.89999994e-09, 4.2750001}
	rmsMg := []float32{0.00259999931, -0.00720000034, 0.0173000004, 1.89999992e-05, -0.0450000092}
	rmsMom := []float32{0.0019363102, -0.00136367104, 0.00208220212, 0.000597154954, 0.000634715019}

	expect := func(t *testing.T, what string, got, want []float32) {
		t.Helper()
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	forEachLevel(t, func(t *testing.T) {
		for _, ams := range []bool{false, true} {
			th := clone(optTheta0)
			m, v, vh := make([]float32, 5), make([]float32, 5), make([]float32, 5)
			for step := range 3 {
				AdamStep(th, m, v, vh, optGrads[step], AdamParams{alphas[step], 0.1, 0.001, 1e-7, ams})
				want := adamWant[step]
				if ams && step == 2 {
					want = amsWant3
				}
				expect(t, fmt.Sprintf("Adam amsgrad=%v step %d θ", ams, step+1), th, want)
			}
			expect(t, "Adam m", m, adamM)
			expect(t, "Adam v", v, adamV)
			if ams {
				expect(t, "Adam v̂", vh, amsVhat)
			}
		}
		th := clone(optTheta0)
		v, mom, mg := make([]float32, 5), make([]float32, 5), make([]float32, 5)
		for step := range 3 {
			RMSpropStep(th, v, mom, mg, optGrads[step], RMSpropParams{0.001, 0.9, 0.1, 0.9, 1e-7, true})
			expect(t, fmt.Sprintf("RMSprop step %d θ", step+1), th, rmsWant[step])
		}
		expect(t, "RMSprop v", v, rmsV)
		expect(t, "RMSprop ḡ", mg, rmsMg)
		expect(t, "RMSprop mom", mom, rmsMom)
	})
}

func TestVectorUtilities(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(12, 12))
		for _, n := range testSizes(r) {
			x := randInput(r, n, 3, false)
			var want, mag float64
			for _, v := range x {
				want += float64(v) * float64(v)
			}
			mag = want
			if got := SumSquares(x); math.Abs(got-want) > float64(n)*0x1p-52*mag {
				t.Fatalf("SumSquares n=%d: %v, want %v", n, got, want)
			}

			buf, y := guarded(n)
			copy(y, x)
			s := float32(r.NormFloat64())
			Scale(y, s)
			checkGuards(t, "Scale", buf)
			for i := range y {
				if !sameBits(y[i], f32mul(x[i], s)) {
					t.Fatalf("Scale n=%d: [%d] = %v, want %v", n, i, y[i], f32mul(x[i], s))
				}
			}

			withSp := randInput(r, n, 3, true)
			buf, y = guarded(n)
			copy(y, withSp)
			lo, hi := float32(-1.5), float32(2)
			Clamp(y, lo, hi)
			checkGuards(t, "Clamp", buf)
			for i, v := range withSp {
				want := v
				if v < lo {
					want = lo
				} else if v > hi {
					want = hi
				}
				if !sameBits(y[i], want) && !(v != v && y[i] != y[i]) {
					t.Fatalf("Clamp n=%d: %v gave %v, want %v", n, v, y[i], want)
				}
			}

			if !AllFinite(x) {
				t.Fatalf("AllFinite n=%d: false on finite data", n)
			}
			for _, bad := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
				for _, i := range []int{0, n / 2, n - 1} {
					if n == 0 {
						continue
					}
					old := x[i]
					x[i] = bad
					if AllFinite(x) {
						t.Fatalf("AllFinite n=%d: true with %v at %d", n, bad, i)
					}
					x[i] = old
				}
			}
		}
		// Squares of float32 values overflow float32 but not the float64 sum.
		big := []float32{math.MaxFloat32, -math.MaxFloat32, 1e-45}
		if got, want := SumSquares(big), 2*float64(math.MaxFloat32)*float64(math.MaxFloat32); math.Abs(got-want) > 1e-15*want {
			t.Errorf("SumSquares(%v) = %v, want %v", big, got, want)
		}
		if !AllFinite(big) {
			t.Errorf("AllFinite(%v) = false", big)
		}
		x := []float32{-3, 0, 3}
		Clamp(x, 1, 1)
		if x[0] != 1 || x[1] != 1 || x[2] != 1 {
			t.Errorf("Clamp(lo = hi = 1) = %v", x)
		}
	})
}

// TestPanics checks the message of every argument check of the exported
// wrappers.
func TestPanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	l := func(v ...int32) []int32 { return v }
	cases := []struct {
		want string
		f    func()
	}{
		{"kernels: Relu: len(dst) = 3, want len(x) = 4", func() { Relu(s(3), s(4)) }},
		{"kernels: Sigmoid: len(dst) = 5, want len(x) = 4", func() { Sigmoid(s(5), s(4)) }},
		{"kernels: Tanh: len(dst) = 0, want len(x) = 1", func() { Tanh(nil, s(1)) }},
		{"kernels: ReluGrad: len(dy) = 2, want len(dx) = 3", func() { ReluGrad(s(3), s(2), s(3)) }},
		{"kernels: ReluGrad: len(y) = 4, want len(dx) = 3", func() { ReluGrad(s(3), s(3), s(4)) }},
		{"kernels: SigmoidGrad: len(dy) = 2, want len(dx) = 3", func() { SigmoidGrad(s(3), s(2), s(3)) }},
		{"kernels: SigmoidGrad: len(y) = 2, want len(dx) = 3", func() { SigmoidGrad(s(3), s(3), s(2)) }},
		{"kernels: TanhGrad: len(dy) = 2, want len(dx) = 3", func() { TanhGrad(s(3), s(2), s(3)) }},
		{"kernels: TanhGrad: len(y) = 2, want len(dx) = 3", func() { TanhGrad(s(3), s(3), s(2)) }},
		{"kernels: Softmax: negative shape -1×3", func() { Softmax(s(3), s(3), -1, 3) }},
		{"kernels: Softmax: negative shape 2×-3", func() { Softmax(s(3), s(3), 2, -3) }},
		{"kernels: Softmax: shape 4611686018427387904×4 overflows int", func() { Softmax(nil, nil, 1<<62, 4) }},
		{"kernels: Softmax: len(x) = 5, need 6", func() { Softmax(s(6), s(5), 2, 3) }},
		{"kernels: Softmax: len(dst) = 5, need 6", func() { Softmax(s(5), s(6), 2, 3) }},
		{"kernels: SoftmaxGrad: negative shape -2×3", func() { SoftmaxGrad(s(6), s(6), s(6), -2, 3) }},
		{"kernels: SoftmaxGrad: len(dx) = 5, need 6", func() { SoftmaxGrad(s(5), s(6), s(6), 2, 3) }},
		{"kernels: SoftmaxGrad: len(dy) = 5, need 6", func() { SoftmaxGrad(s(6), s(5), s(6), 2, 3) }},
		{"kernels: SoftmaxGrad: len(y) = 5, need 6", func() { SoftmaxGrad(s(6), s(6), s(5), 2, 3) }},
		{"kernels: AddBias: negative shape 2×-1", func() { AddBias(s(6), s(3), 2, -1) }},
		{"kernels: AddBias: len(x) = 5, need 6", func() { AddBias(s(5), s(3), 2, 3) }},
		{"kernels: AddBias: len(bias) = 2, need 3", func() { AddBias(s(6), s(2), 2, 3) }},
		{"kernels: BiasActivation: negative shape -1×3", func() { BiasActivation(ActReLU, s(6), s(3), -1, 3) }},
		{"kernels: BiasActivation: len(x) = 5, need 6", func() { BiasActivation(ActReLU, s(5), s(3), 2, 3) }},
		{"kernels: BiasActivation: len(bias) = 2, need 3", func() { BiasActivation(ActTanh, s(6), s(2), 2, 3) }},
		{"kernels: BiasActivation: unknown activation Activation(9)", func() { BiasActivation(9, s(6), s(3), 2, 3) }},
		{"kernels: BiasActivation: unknown activation Activation(-1)", func() { BiasActivation(-1, s(6), s(3), 2, 3) }},
		{"kernels: ActivationGrad: negative shape 1×-3", func() { ActivationGrad(ActReLU, s(6), s(6), s(6), 1, -3) }},
		{"kernels: ActivationGrad: len(dx) = 5, need 6", func() { ActivationGrad(ActReLU, s(5), s(6), s(6), 2, 3) }},
		{"kernels: ActivationGrad: len(dy) = 5, need 6", func() { ActivationGrad(ActSigmoid, s(6), s(5), s(6), 2, 3) }},
		{"kernels: ActivationGrad: len(y) = 5, need 6", func() { ActivationGrad(ActSoftmax, s(6), s(6), s(5), 2, 3) }},
		{fmt.Sprintf("kernels: ActivationGrad: unknown activation Activation(%d)", numActivations), func() { ActivationGrad(numActivations, s(6), s(6), s(6), 2, 3) }},
		{"kernels: ColSum: negative shape -2×3", func() { ColSum(s(3), s(6), -2, 3) }},
		{"kernels: ColSum: len(x) = 5, need 6", func() { ColSum(s(3), s(5), 2, 3) }},
		{"kernels: ColSum: len(dst) = 2, need 3", func() { ColSum(s(2), s(6), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: negative shape -1×3", func() { SoftmaxCrossEntropy(nil, nil, s(3), l(0), -1, 3) }},
		{"kernels: SoftmaxCrossEntropy: cols = 0 with rows > 0", func() { SoftmaxCrossEntropy(nil, nil, nil, l(0), 1, 0) }},
		{"kernels: SoftmaxCrossEntropy: len(logits) = 5, need 6", func() { SoftmaxCrossEntropy(nil, nil, s(5), l(0, 0), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: len(labels) = 1, need 2", func() { SoftmaxCrossEntropy(nil, nil, s(6), l(0), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: len(probs) = 5, need 6", func() { SoftmaxCrossEntropy(s(5), nil, s(6), l(0, 0), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: len(grad) = 0, need 6", func() { SoftmaxCrossEntropy(nil, []float32{}, s(6), l(0, 0), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: labels[1] = 3, outside [0, 3)", func() { SoftmaxCrossEntropy(nil, nil, s(6), l(2, 3), 2, 3) }},
		{"kernels: SoftmaxCrossEntropy: labels[0] = -1, outside [0, 3)", func() { SoftmaxCrossEntropy(s(6), s(6), s(6), l(-1, 0), 2, 3) }},
		{"kernels: Argmax: negative shape 2×-3", func() { Argmax(make([]int32, 2), s(6), 2, -3) }},
		{"kernels: Argmax: cols = 0 with rows > 0", func() { Argmax(make([]int32, 2), nil, 2, 0) }},
		{"kernels: Argmax: len(x) = 5, need 6", func() { Argmax(make([]int32, 2), s(5), 2, 3) }},
		{"kernels: Argmax: len(dst) = 1, need 2", func() { Argmax(make([]int32, 1), s(6), 2, 3) }},
		{"kernels: CountCorrect: negative shape -2×3", func() { CountCorrect(s(6), l(0, 0), -2, 3) }},
		{"kernels: CountCorrect: cols = 0 with rows > 0", func() { CountCorrect(nil, l(0, 0), 2, 0) }},
		{"kernels: CountCorrect: len(x) = 5, need 6", func() { CountCorrect(s(5), l(0, 0), 2, 3) }},
		{"kernels: CountCorrect: len(labels) = 1, need 2", func() { CountCorrect(s(6), l(0), 2, 3) }},
		{"kernels: SGDStep: len(m) = 2, want len(theta) = 3", func() { SGDStep(s(3), s(2), s(3), SGDParams{}) }},
		{"kernels: SGDStep: len(g) = 4, want len(theta) = 3", func() { SGDStep(s(3), s(3), s(4), SGDParams{}) }},
		{"kernels: AdagradStep: len(acc) = 2, want len(theta) = 3", func() { AdagradStep(s(3), s(2), s(3), AdagradParams{}) }},
		{"kernels: AdagradStep: len(g) = 2, want len(theta) = 3", func() { AdagradStep(s(3), s(3), s(2), AdagradParams{}) }},
		{"kernels: RMSpropStep: len(v) = 2, want len(theta) = 3", func() { RMSpropStep(s(3), s(2), nil, nil, s(3), RMSpropParams{}) }},
		{"kernels: RMSpropStep: len(g) = 2, want len(theta) = 3", func() { RMSpropStep(s(3), s(3), nil, nil, s(2), RMSpropParams{}) }},
		{"kernels: RMSpropStep: len(mom) = 0, want len(theta) = 3", func() { RMSpropStep(s(3), s(3), nil, nil, s(3), RMSpropParams{Momentum: 0.9}) }},
		{"kernels: RMSpropStep: len(mg) = 2, want len(theta) = 3", func() { RMSpropStep(s(3), s(3), nil, s(2), s(3), RMSpropParams{Centered: true}) }},
		{"kernels: AdamStep: len(m) = 2, want len(theta) = 3", func() { AdamStep(s(3), s(2), s(3), nil, s(3), AdamParams{}) }},
		{"kernels: AdamStep: len(v) = 2, want len(theta) = 3", func() { AdamStep(s(3), s(3), s(2), nil, s(3), AdamParams{}) }},
		{"kernels: AdamStep: len(g) = 2, want len(theta) = 3", func() { AdamStep(s(3), s(3), s(3), nil, s(2), AdamParams{}) }},
		{"kernels: AdamStep: len(vhat) = 0, want len(theta) = 3", func() { AdamStep(s(3), s(3), s(3), nil, s(3), AdamParams{Amsgrad: true}) }},
		{"kernels: Clamp: lo = 2 > hi = 1", func() { Clamp(s(3), 2, 1) }},
	}
	for _, c := range cases {
		got := mustPanic(c.f)
		if got != c.want {
			t.Errorf("got panic %q, want %q", got, c.want)
		}
	}
	// Calls at the edge of validity must not panic.
	valid := []func(){
		func() { Relu(nil, nil) },
		func() { Softmax(nil, nil, 0, 5) },
		func() { Softmax(nil, nil, 3, 0) },
		func() { SoftmaxGrad(nil, nil, nil, 4, 0) },
		func() { AddBias(nil, s(2), 0, 2) },
		func() { BiasActivation(ActSoftmax, nil, nil, 5, 0) },
		func() { ColSum(s(3), nil, 0, 3) },
		func() { SoftmaxCrossEntropy(nil, nil, nil, nil, 0, 3) },
		func() { Argmax(nil, nil, 0, 0) },
		func() { CountCorrect(nil, nil, 0, 4) },
		func() { CountCorrect(s(3), l(7), 1, 3) }, // a label out of range just never matches
		func() { RMSpropStep(s(3), s(3), s(1), s(1), s(3), RMSpropParams{}) },
		func() { AdamStep(s(3), s(3), s(3), s(1), s(3), AdamParams{}) },
		func() { Clamp(s(3), 1, 1) },
	}
	for i, f := range valid {
		if got := mustPanic(f); got != "" {
			t.Errorf("valid call %d panicked: %s", i, got)
		}
	}
}

// TestNoAllocs requires every exported kernel to allocate nothing, on
// every level, at the trainer's sizes.
func TestNoAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 13))
		const rows, cols = 32, 100
		x := randInput(r, rows*cols, 1, false)
		y := randInput(r, rows*cols, 1, false)
		dst := make([]float32, rows*cols)
		bias := randInput(r, cols, 1, false)
		labels := make([]int32, rows)
		idx := make([]int32, rows)
		n := 1010
		th, m, v, vh, g := randInput(r, n, 1, false), make([]float32, n), make([]float32, n), make([]float32, n), randInput(r, n, 1, false)
		kernels := map[string]func(){
			"Relu":                func() { Relu(dst, x) },
			"Sigmoid":             func() { Sigmoid(dst, x) },
			"Tanh":                func() { Tanh(dst, x) },
			"ReluGrad":            func() { ReluGrad(dst, x, y) },
			"SigmoidGrad":         func() { SigmoidGrad(dst, x, y) },
			"TanhGrad":            func() { TanhGrad(dst, x, y) },
			"Softmax":             func() { Softmax(dst, x, rows, cols) },
			"SoftmaxGrad":         func() { SoftmaxGrad(dst, x, y, rows, cols) },
			"AddBias":             func() { AddBias(dst, bias, rows, cols) },
			"BiasActivation":      func() { BiasActivation(ActSigmoid, dst, bias, rows, cols) },
			"ActivationGrad":      func() { ActivationGrad(ActTanh, dst, x, y, rows, cols) },
			"ColSum":              func() { ColSum(bias, x, rows, cols) },
			"SoftmaxCrossEntropy": func() { SoftmaxCrossEntropy(dst, y, x, labels, rows, cols) },
			"Argmax":              func() { Argmax(idx, x, rows, cols) },
			"CountCorrect":        func() { CountCorrect(x, labels, rows, cols) },
			"SGDStep":             func() { SGDStep(th, m, g, SGDParams{0.01, 0.9, true}) },
			"AdagradStep":         func() { AdagradStep(th, v, g, AdagradParams{0.001, 1e-7}) },
			"RMSpropStep":         func() { RMSpropStep(th, v, m, vh, g, RMSpropParams{0.001, 0.9, 0.1, 0.9, 1e-7, true}) },
			"AdamStep":            func() { AdamStep(th, m, v, vh, g, AdamParams{1e-3, 0.1, 0.001, 1e-7, true}) },
			"SumSquares":          func() { SumSquares(x) },
			"Scale":               func() { Scale(dst, 0.5) },
			"Clamp":               func() { Clamp(dst, -1, 1) },
			"AllFinite":           func() { AllFinite(x) },
		}
		for name, f := range kernels {
			if a := testing.AllocsPerRun(10, f); a != 0 {
				t.Errorf("%s: %v allocations per call", name, a)
			}
		}
	})
}

// TestActivationString pins the Keras names.
func TestActivationString(t *testing.T) {
	want := []string{"linear", "relu", "sigmoid", "tanh", "softmax"}
	for i, name := range want {
		if a := Activation(i); a.String() != name {
			t.Errorf("Activation(%d).String() = %q, want %q", i, a.String(), name)
		}
	}
	for _, a := range []Activation{-1, numActivations, numActivations + 2} {
		if s := a.String(); !strings.Contains(s, strconv.Itoa(int(a))) {
			t.Errorf("Activation(%d).String() = %q", int(a), s)
		}
	}
}
