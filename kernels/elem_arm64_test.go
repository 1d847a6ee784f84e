//go:build gc && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The neon elementwise kernels must be bit-identical to the reference: the
// vector lanes compute exp32, sigmoid32 and tanh32 with the same
// operations, unfused. (A NaN result need only be a NaN: payloads are not
// part of the contract.)

func sameOrNaN(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// neonInputs returns n values mixing ordinary magnitudes, the exp
// thresholds and special values, so that every vector and every tail
// sees some of each.
func neonInputs(r *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.625, -0.625, 0.62499994, 88, -88, 88.72284, 88.722839, -87.33655, -87.34,
		89, -89, 100, -100, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-40, -1e-40, 0x1p-126, 44.4, -44.4, 9, -9}
	x := make([]float32, n)
	for i := range x {
		switch r.IntN(4) {
		case 0:
			x[i] = special[r.IntN(len(special))]
		case 1:
			x[i] = float32(r.NormFloat64())
		default:
			x[i] = float32((r.Float64()*2 - 1) * 100)
		}
	}
	return x
}

func neonLevel(t *testing.T) func() {
	restore, err := Use("neon")
	if err != nil {
		t.Fatal(err)
	}
	return restore
}

func neonSizes(r *rand.Rand) []int {
	var s []int
	for n := 0; n <= 4*4+1; n++ {
		s = append(s, n)
	}
	for range 6 {
		s = append(s, 14+r.IntN(1000))
	}
	return s
}

// neonShifted returns a copy of x that starts off elements into a fresh
// allocation, so that the kernels also read from addresses that are not
// 16-byte aligned.
func neonShifted(x []float32, off int) []float32 {
	buf := make([]float32, off+len(x))
	copy(buf[off:], x)
	return buf[off:]
}

func TestNEONUnaryBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(41, 42))
	kernels := []struct {
		name string
		fn   func(dst, x []float32)
		ref  func(dst, x []float32)
	}{{"Relu", Relu, refRelu}, {"Sigmoid", Sigmoid, refSigmoid}, {"Tanh", Tanh, refTanh}}
	for _, k := range kernels {
		for _, n := range neonSizes(r) {
			x := neonShifted(neonInputs(r, n), r.IntN(4))
			x0 := append([]float32(nil), x...)
			want := make([]float32, n)
			k.ref(want, x)
			buf, got := guarded(n)
			k.fn(got, x)
			checkGuards(t, k.name, buf)
			for i := range want {
				if !sameOrNaN(got[i], want[i]) {
					t.Fatalf("%s n=%d: [%d] f(%v) = %v (%#x), reference %v (%#x)", k.name, n, i, x[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
					t.Fatalf("%s n=%d: input changed at %d", k.name, n, i)
				}
			}
			// In place.
			k.fn(x, x)
			for i := range want {
				if !sameOrNaN(x[i], want[i]) {
					t.Fatalf("%s n=%d in place: [%d] = %v, reference %v", k.name, n, i, x[i], want[i])
				}
			}
		}
	}
}

// TestNEONExpSweep runs Sigmoid and Tanh over a sweep of the whole float32
// line, both signs, every 4099th bit pattern (an odd stride, so every
// exponent and many mantissas), against the reference.
func TestNEONExpSweep(t *testing.T) {
	defer neonLevel(t)()
	var x []float32
	for b := uint64(0); b < 1<<32; b += 4099 {
		x = append(x, math.Float32frombits(uint32(b)))
	}
	for _, k := range []struct {
		name    string
		fn, ref func(dst, x []float32)
	}{{"Sigmoid", Sigmoid, refSigmoid}, {"Tanh", Tanh, refTanh}} {
		got := make([]float32, len(x))
		want := make([]float32, len(x))
		k.fn(got, x)
		k.ref(want, x)
		for i := range x {
			if !sameOrNaN(got[i], want[i]) {
				t.Fatalf("%s(%v) = %v, reference %v", k.name, x[i], got[i], want[i])
			}
		}
	}
}

func TestNEONGradBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(43, 44))
	refs := map[Activation]func(dx, dy, y []float32){ActReLU: refReluGrad, ActSigmoid: refSigmoidGrad, ActTanh: refTanhGrad}
	for act, ref := range refs {
		for _, n := range neonSizes(r) {
			dy := neonShifted(neonInputs(r, n), r.IntN(4))
			y := neonShifted(neonInputs(r, n), r.IntN(4))
			want := make([]float32, n)
			ref(want, dy, y)
			buf, got := guarded(n)
			ActivationGrad(act, got, dy, y, 1, n)
			checkGuards(t, act.String(), buf)
			for i := range want {
				if !sameOrNaN(got[i], want[i]) {
					t.Fatalf("%v n=%d: [%d] dy=%v y=%v: %v, reference %v", act, n, i, dy[i], y[i], got[i], want[i])
				}
			}
			// dx may be dy.
			ActivationGrad(act, dy, dy, y, 1, n)
			for i := range want {
				if !sameOrNaN(dy[i], want[i]) {
					t.Fatalf("%v n=%d in place: [%d] = %v, reference %v", act, n, i, dy[i], want[i])
				}
			}
		}
	}
}

func TestNEONBiasBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(45, 46))
	refs := map[Activation]func(x, bias []float32, rows, cols int){
		ActLinear: refAddBias, ActReLU: refBiasRelu, ActSigmoid: refBiasSigmoid, ActTanh: refBiasTanh,
	}
	var shapes [][2]int
	for cols := 1; cols <= 17; cols++ {
		shapes = append(shapes, [2]int{1 + r.IntN(5), cols})
	}
	shapes = append(shapes, [2]int{32, 100}, [2]int{7, 784}, [2]int{3, 10}, [2]int{1 + r.IntN(40), 1 + r.IntN(300)})
	for act, ref := range refs {
		for _, s := range shapes {
			rows, cols := s[0], s[1]
			n := rows * cols
			x := neonInputs(r, n)
			bias := neonShifted(neonInputs(r, cols), r.IntN(4))
			want := append([]float32(nil), x...)
			ref(want, bias, rows, cols)
			buf, got := guarded(n)
			copy(got, x)
			if act == ActLinear {
				AddBias(got, bias, rows, cols)
			} else {
				BiasActivation(act, got, bias, rows, cols)
			}
			checkGuards(t, act.String(), buf)
			for i := range want {
				if !sameOrNaN(got[i], want[i]) {
					t.Fatalf("%v %d×%d: [%d] x=%v b=%v: %v, reference %v", act, rows, cols, i, x[i], bias[i%cols], got[i], want[i])
				}
			}
		}
	}
}

// neonLogits returns rows×cols logits: ordinary rows, rows with huge and
// tiny values, equal maxima, ±Inf and NaN, so that every exp path runs.
func neonLogits(r *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for i := range rows {
		row := x[i*cols : (i+1)*cols]
		switch i % 5 {
		case 0, 1:
			for j := range row {
				row[j] = float32(r.NormFloat64() * 5)
			}
		case 2:
			for j := range row {
				row[j] = float32((r.Float64()*2 - 1) * 200)
			}
		default:
			copy(row, neonInputs(r, cols))
		}
	}
	return x
}

func TestNEONSoftmaxBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(47, 48))
	shapes := [][2]int{{32, 10}, {7, 1}, {5, 784}, {1 + r.IntN(40), 1 + r.IntN(300)}}
	for cols := 1; cols <= 17; cols++ {
		shapes = append(shapes, [2]int{6, cols})
	}
	for _, s := range shapes {
		rows, cols := s[0], s[1]
		n := rows * cols
		x := neonShifted(neonLogits(r, rows, cols), r.IntN(4))
		want := make([]float32, n)
		refSoftmax(want, x, rows, cols)
		buf, got := guarded(n)
		Softmax(got, x, rows, cols)
		checkGuards(t, "Softmax", buf)
		for i := range want {
			if !sameOrNaN(got[i], want[i]) {
				t.Fatalf("Softmax %d×%d: [%d] = %v, reference %v", rows, cols, i, got[i], want[i])
			}
		}
		bias := neonInputs(r, cols)
		for j := range bias {
			if bias[j] != bias[j] || math.IsInf(float64(bias[j]), 0) {
				bias[j] = 1
			}
		}
		copy(want, x)
		refBiasSoftmax(want, bias, rows, cols)
		copy(got, x)
		BiasActivation(ActSoftmax, got, bias, rows, cols)
		checkGuards(t, "BiasActivation(softmax)", buf)
		for i := range want {
			if !sameOrNaN(got[i], want[i]) {
				t.Fatalf("BiasActivation(softmax) %d×%d: [%d] = %v, reference %v", rows, cols, i, got[i], want[i])
			}
		}
	}
}

func TestNEONCrossEntropyBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(49, 50))
	shapes := [][2]int{{32, 10}, {7, 1}, {3, 5}, {5, 784}, {1 + r.IntN(40), 1 + r.IntN(300)}}
	for cols := 1; cols <= 17; cols++ {
		shapes = append(shapes, [2]int{6, cols})
	}
	for _, s := range shapes {
		rows, cols := s[0], s[1]
		n := rows * cols
		z := neonShifted(neonLogits(r, rows, cols), r.IntN(4))
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32(r.IntN(cols))
			if i%3 == 0 { // the label at the row maximum: the log1p path
				labels[i] = int32(argmaxRow(z[i*cols : (i+1)*cols]))
			}
		}
		for _, outs := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
			var wp, wg, gp, gg, pbuf, gbuf []float32
			if outs[0] {
				wp = make([]float32, n)
				pbuf, gp = guarded(n)
			}
			if outs[1] {
				wg = make([]float32, n)
				gbuf, gg = guarded(n)
			}
			want := refSoftmaxCrossEntropy(wp, wg, z, labels, rows, cols)
			got := SoftmaxCrossEntropy(gp, gg, z, labels, rows, cols)
			if math.Float64bits(got) != math.Float64bits(want) && !(got != got && want != want) {
				t.Fatalf("%d×%d outputs %v: loss %v, reference %v", rows, cols, outs, got, want)
			}
			for _, o := range []struct {
				name           string
				buf, got, want []float32
			}{{"probs", pbuf, gp, wp}, {"grad", gbuf, gg, wg}} {
				if o.want == nil {
					continue
				}
				checkGuards(t, o.name, o.buf)
				for i := range o.want {
					if !sameOrNaN(o.got[i], o.want[i]) {
						t.Fatalf("%d×%d outputs %v: %s[%d] = %v, reference %v", rows, cols, outs, o.name, i, o.got[i], o.want[i])
					}
				}
			}
		}
	}
}

// TestNEONSoftmaxGradBitIdentical: the same float64 sum as the reference,
// then (dy − s)·y in the vector lanes with the reference's two roundings.
func TestNEONSoftmaxGradBitIdentical(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(51, 52))
	shapes := [][2]int{{32, 10}, {5, 784}, {3, 100}, {1 + r.IntN(40), 1 + r.IntN(300)}}
	for cols := 1; cols <= 17; cols++ {
		shapes = append(shapes, [2]int{6, cols})
	}
	for _, s := range shapes {
		rows, cols := s[0], s[1]
		n := rows * cols
		dy, y := neonShifted(neonInputs(r, n), r.IntN(4)), neonShifted(neonInputs(r, n), r.IntN(4))
		want := make([]float32, n)
		refSoftmaxGrad(want, dy, y, rows, cols)
		buf, got := guarded(n)
		SoftmaxGrad(got, dy, y, rows, cols)
		checkGuards(t, "SoftmaxGrad", buf)
		for i := range want {
			if !sameOrNaN(got[i], want[i]) {
				t.Fatalf("SoftmaxGrad %d×%d: [%d] = %v, reference %v", rows, cols, i, got[i], want[i])
			}
		}
	}
}

// TestNEONArgmax runs Argmax and CountCorrect on rows of few distinct
// values (ties everywhere, in the vectors and in the tails), ±0, ±Inf and
// NaN at every position, and the logits of a softmax, against the
// reference; CountCorrect over more rows than its chunk.
func TestNEONArgmax(t *testing.T) {
	defer neonLevel(t)()
	r := rand.New(rand.NewPCG(53, 54))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	vals := []float32{-1, 0, negZero, 1, 2, nan, inf, -inf}
	for cols := 1; cols <= 19; cols++ {
		for _, rows := range []int{1, 7, 130} {
			for pass := range 3 {
				var x []float32
				if pass == 2 {
					x = neonLogits(r, rows, cols)
				} else {
					x = make([]float32, rows*cols)
					for k := range x {
						x[k] = vals[r.IntN(3+pass*5)]
					}
				}
				want := make([]int32, rows)
				refArgmax(want, x, rows, cols)
				got := make([]int32, rows+1)
				got[rows] = -7
				Argmax(got[:rows], x, rows, cols)
				if got[rows] != -7 {
					t.Fatalf("Argmax %d×%d wrote past dst", rows, cols)
				}
				labels := make([]int32, rows)
				for i := range rows {
					if got[i] != want[i] {
						t.Fatalf("Argmax %d×%d: row %d %v: %d, reference %d", rows, cols, i, x[i*cols:(i+1)*cols], got[i], want[i])
					}
					labels[i] = int32(r.IntN(cols))
				}
				if g, w := CountCorrect(x, labels, rows, cols), refCountCorrect(x, labels, rows, cols); g != w {
					t.Fatalf("CountCorrect %d×%d: %d, reference %d", rows, cols, g, w)
				}
			}
		}
	}
}
