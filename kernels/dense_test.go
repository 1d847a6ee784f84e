package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// denseCase is one DenseForward problem: x and w with NaN in their
// leading-dimension padding, y inside a buffer of NaN guard cells (and NaN
// in y itself: y is only written).
type denseCase struct {
	act           Activation
	m, n, k       int
	x, w, bias    []float32
	ldx, ldw, ldy int
	ybuf          []float32
	yoff          int
}

func newDenseCase(r *rand.Rand, act Activation, m, n, k int, pad bool) *denseCase {
	d := &denseCase{act: act, m: m, n: n, k: k}
	extra := func() int {
		if pad {
			return r.IntN(4)
		}
		return 0
	}
	d.ldx = max(1, k) + extra()
	d.ldw = max(1, n) + extra()
	d.ldy = max(1, n) + extra()
	d.x = gemmMatrix(r, m, k, d.ldx)
	d.w = gemmMatrix(r, k, n, d.ldw)
	d.bias = make([]float32, n+1)
	for j := range d.bias {
		d.bias[j] = r.Float32()*2 - 1
	}
	d.bias = d.bias[1:] // odd offset
	if pad && len(d.x) > 0 {
		// Move x to an odd offset as well.
		buf := append([]float32{gemmNaN}, d.x...)
		d.x = buf[1:]
	}
	d.yoff = gemmGuard
	d.ybuf = make([]float32, matrixLen("test", m, n, d.ldy)+2*gemmGuard)
	for i := range d.ybuf {
		d.ybuf[i] = gemmNaN
	}
	return d
}

func (d *denseCase) y() []float32 { return d.ybuf[d.yoff : len(d.ybuf)-gemmGuard] }

func (d *denseCase) run() {
	DenseForward(d.act, d.m, d.n, d.k, d.x, d.ldx, d.w, d.ldw, d.bias, d.y(), d.ldy)
}

func (d *denseCase) String() string {
	return fmt.Sprintf("act=%v m=%d n=%d k=%d ldx=%d ldw=%d ldy=%d", d.act, d.m, d.n, d.k, d.ldx, d.ldw, d.ldy)
}

// twoPass computes what DenseForward must equal bit for bit on the active
// level: Sgemm into a copy of the y buffer, then BiasActivation per row.
func (d *denseCase) twoPass() []float32 {
	buf := clone(d.ybuf)
	y := buf[d.yoff : len(buf)-gemmGuard]
	Sgemm(false, false, d.m, d.n, d.k, 1, d.x, d.ldx, d.w, d.ldw, 0, y, d.ldy)
	for i := range d.m {
		BiasActivation(d.act, y[i*d.ldy:i*d.ldy+d.n], d.bias, 1, d.n)
	}
	return buf
}

// checkGuards verifies that nothing outside y's m×n region changed.
func (d *denseCase) checkOutside(t *testing.T) {
	t.Helper()
	for idx, v := range d.ybuf {
		off := idx - d.yoff
		inside := off >= 0 && off < len(d.ybuf)-2*gemmGuard && off%d.ldy < d.n
		if !inside && !math.IsNaN(float64(v)) {
			t.Fatalf("%v: ybuf[%d] outside y's region changed to %v", d, idx, v)
		}
	}
}

// checkRef compares linear and ReLU results with a float64 reference:
// the GEMM bound of sgemm_test.go plus one rounding of the bias add.
func (d *denseCase) checkRef(t *testing.T) {
	t.Helper()
	y := d.y()
	for i := range d.m {
		for j := range d.n {
			var sum, mag float64
			for p := range d.k {
				v := float64(d.x[i*d.ldx+p]) * float64(d.w[p*d.ldw+j])
				sum += v
				mag += math.Abs(v)
			}
			want := sum + float64(d.bias[j])
			tol := float64(d.k+3)*gemmUlp*mag + 2*gemmUlp*math.Abs(want)
			if d.act == ActReLU {
				want = max(want, 0)
			}
			got := float64(y[i*d.ldy+j])
			if diff := math.Abs(got - want); !(diff <= tol) {
				t.Fatalf("%v: y[%d,%d] = %v, want %v (|diff| %.3g > tol %.3g)", d, i, j, got, want, diff, tol)
			}
			if d.act == ActReLU && got < 0 {
				t.Fatalf("%v: y[%d,%d] = %v < 0 after ReLU", d, i, j, got)
			}
		}
	}
}

var allActivations = Activations()

func denseShapes() [][3]int {
	var s [][3]int
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33} {
		for _, n := range []int{1, 2, 7, 8, 9, 10, 15, 16, 17, 24, 25, 31, 33, 40, 49, 99, 100, 101} {
			s = append(s, [3]int{m, n, 1 + (3*m+n)%11})
		}
	}
	for n := 1; n <= 40; n++ {
		s = append(s, [3]int{32, n, 5})
	}
	// The tutorial's layers and neighbours, and k = 0 (y = act(bias)).
	s = append(s, [3]int{32, 100, 784}, [3]int{33, 101, 785}, [3]int{31, 99, 783}, [3]int{32, 10, 100},
		[3]int{1, 100, 784}, [3]int{7, 10, 800}, [3]int{5, 9, 0}, [3]int{1, 1, 0}, [3]int{32, 100, 0})
	// The wide column chunks of short panels (gemmsmall: 13 vectors of 8,
	// 16 of 16, 4 to 7 for two to six rows) and their neighbours.
	for _, m := range []int{1, 2, 3, 4, 6} {
		for _, n := range []int{103, 104, 105, 111, 112, 113, 255, 256, 257, 300} {
			s = append(s, [3]int{m, n, 1 + (m+n)%7})
		}
	}
	s = append(s, [3]int{1, 100, 785}, [3]int{2, 100, 784}, [3]int{1, 10, 100})
	return s
}

func TestDenseForward(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		cs := 0
		for _, s := range denseShapes() {
			for _, act := range allActivations {
				cs++
				d := newDenseCase(r, act, s[0], s[1], s[2], cs%3 != 0)
				x0, w0, b0 := clone(d.x), clone(d.w), clone(d.bias)
				want := d.twoPass()
				d.run()
				d.checkOutside(t)
				if i := firstDiff(d.ybuf, want); i >= 0 {
					t.Fatalf("%v: ybuf[%d] = %v, Sgemm then BiasActivation gives %v", d, i, d.ybuf[i], want[i])
				}
				if act == ActLinear || act == ActReLU {
					d.checkRef(t)
				}
				for _, in := range []struct {
					name      string
					got, want []float32
				}{{"x", d.x, x0}, {"w", d.w, w0}, {"bias", d.bias, b0}} {
					if i := firstDiff(in.got, in.want); i >= 0 {
						t.Fatalf("%v: input %s changed at %d", d, in.name, i)
					}
				}
			}
		}
	})
}

// TestDenseForwardReluSpecials checks that the fused ReLU keeps NaN and
// gives refRelu's values at and around zero. The products here are exact
// and every level's sums start from +0, so z is known to the bit (−0
// products summed from +0 give +0).
func TestDenseForwardReluSpecials(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		const m, n, k = 3, 18, 2
		x := []float32{1, 0, 0, 1, float32(math.NaN()), 1}
		w := make([]float32, k*n)
		for j := range n {
			w[j] = float32(j) - 9                  // row 0 of w: negative and positive
			w[n+j] = float32(math.Copysign(0, -1)) // row 1: −0
		}
		bias := make([]float32, n)
		bias[0] = float32(math.Copysign(0, -1))
		y := make([]float32, m*n)
		DenseForward(ActReLU, m, n, k, x, k, w, n, bias, y, n)
		for i := range m {
			for j := range n {
				z := (0 + x[i*k]*w[j]) + x[i*k+1]*w[n+j]
				want := relu32(z + bias[j])
				if math.Float32bits(y[i*n+j]) != math.Float32bits(want) && !(want != want && y[i*n+j] != y[i*n+j]) {
					t.Fatalf("y[%d,%d] = %v (bits %#x), want %v (bits %#x)", i, j, y[i*n+j], math.Float32bits(y[i*n+j]), want, math.Float32bits(want))
				}
			}
		}
	})
}

func TestDenseForwardPanics(t *testing.T) {
	s := make([]float32, 100)
	type args struct {
		act           Activation
		m, n, k       int
		x, w, b, y    []float32
		ldx, ldw, ldy int
	}
	ok := args{m: 2, n: 3, k: 4, x: s[:8], ldx: 4, w: s[:12], ldw: 3, b: s[:3], y: s[:6], ldy: 3}
	tests := []struct {
		name string
		mod  func(*args)
		want string
	}{
		{"m<0", func(a *args) { a.m = -1 }, "kernels: DenseForward: m = -1, need ≥ 0"},
		{"n<0", func(a *args) { a.n = -2 }, "kernels: DenseForward: n = -2, need ≥ 0"},
		{"k<0", func(a *args) { a.k = -3 }, "kernels: DenseForward: k = -3, need ≥ 0"},
		{"ldx", func(a *args) { a.ldx = 3 }, "kernels: DenseForward: ldx = 3, need ≥ 4 (k)"},
		{"ldx k=0", func(a *args) { a.k, a.ldx = 0, 0 }, "kernels: DenseForward: ldx = 0, need ≥ 1 (k)"},
		{"ldw", func(a *args) { a.ldw = 2 }, "kernels: DenseForward: ldw = 2, need ≥ 3 (n)"},
		{"ldy", func(a *args) { a.ldy = 1 }, "kernels: DenseForward: ldy = 1, need ≥ 3 (n)"},
		{"act", func(a *args) { a.act = 9 }, "kernels: DenseForward: unknown activation Activation(9)"},
		{"act<0", func(a *args) { a.act = -1 }, "kernels: DenseForward: unknown activation Activation(-1)"},
		{"short x", func(a *args) { a.x = s[:7] }, "kernels: DenseForward: len(x) = 7, need 8"},
		{"short x ldx", func(a *args) { a.ldx = 6; a.x = s[:9] }, "kernels: DenseForward: len(x) = 9, need 10"},
		{"short w", func(a *args) { a.w = s[:11] }, "kernels: DenseForward: len(w) = 11, need 12"},
		{"short bias", func(a *args) { a.b = s[:2] }, "kernels: DenseForward: len(bias) = 2, need 3"},
		{"short y", func(a *args) { a.ldy = 5; a.y = s[:7] }, "kernels: DenseForward: len(y) = 7, need 8"},
		{"short x before y", func(a *args) { a.x, a.y = s[:1], s[:1] }, "kernels: DenseForward: len(x) = 1, need 8"},
		{"overflow", func(a *args) { a.m, a.ldx = 3, math.MaxInt/2 }, fmt.Sprintf("kernels: DenseForward: 3×4 matrix with leading dimension %d overflows int", math.MaxInt/2)},
	}
	for _, tc := range tests {
		a := ok
		tc.mod(&a)
		got := mustPanic(func() {
			DenseForward(a.act, a.m, a.n, a.k, a.x, a.ldx, a.w, a.ldw, a.b, a.y, a.ldy)
		})
		if got != tc.want {
			t.Errorf("%s: panic %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := mustPanic(func() { DenseForward(ActReLU, 2, 3, 4, s[:8], 4, s[:12], 3, s[:3], s[:6], 3) }); got != "" {
		t.Errorf("valid call panicked: %s", got)
	}
	// An empty y needs no slices at all.
	if got := mustPanic(func() { DenseForward(ActSoftmax, 0, 3, 4, nil, 4, nil, 3, nil, nil, 3) }); got != "" {
		t.Errorf("m = 0 call panicked: %s", got)
	}
}

func TestDenseForwardAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		for _, s := range [][3]int{{32, 100, 784}, {32, 10, 100}, {7, 33, 0}} {
			for _, act := range allActivations {
				d := newDenseCase(r, act, s[0], s[1], s[2], true)
				if n := testing.AllocsPerRun(5, d.run); n != 0 {
					t.Errorf("%v: %v allocations per call", d, n)
				}
			}
		}
	})
}

func ExampleDenseForward() {
	// A batch of two samples with three features through a dense layer of
	// two ReLU units: y = relu(x·w + b).
	x := []float32{
		1, 2, 3,
		-1, 0, 1,
	}
	w := []float32{ // 3×2: one column per unit
		0.5, -1,
		0.25, 0,
		0, 1,
	}
	b := []float32{0.5, -1}
	y := make([]float32, 2*2)
	DenseForward(ActReLU, 2, 2, 3, x, 3, w, 2, b, y, 2)
	fmt.Println(y[:2])
	fmt.Println(y[2:])
	// Output:
	// [1.5 1]
	// [0 1]
}
