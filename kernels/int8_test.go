package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests of the int8 path: the quantization rules on values worked out by
// hand, the exactness of the integer sums up to MaxInt8Inputs, and every
// level against the reference bit for bit on odd shapes, padded leading
// dimensions, unaligned slices and guard cells.

func TestQuantizeWeights(t *testing.T) {
	// Column 0: max |w| = 1.27, so scale = 1.27/127 = 0.01 (in float32);
	// column 1 is all zeros; column 2 checks ties to even: 2.5 and 3.5
	// scaled by max 127 → scale 1 → codes 2 and 4.
	w := []float32{
		0.5, 0, 2.5,
		-1.27, 0, 3.5,
		0.004, 0, 127,
		0.006, 0, -0.5,
	}
	q := QuantizeWeights(w, 4, 3)
	s := q.Scales()
	if s[0] != float32(1.27)/127 || s[1] != 0 || s[2] != 1 {
		t.Fatalf("scales %v", s)
	}
	want := []int8{
		int8(math.RoundToEven(float64(float32(0.5) / s[0]))), 0, 2,
		-127, 0, 4,
		int8(math.RoundToEven(float64(float32(0.004) / s[0]))), 0, 127,
		int8(math.RoundToEven(float64(float32(0.006) / s[0]))), 0, 0,
	}
	if got := q.Codes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	if want[0] != 50 || want[6] != 0 || want[9] != 1 {
		t.Fatalf("hand-worked codes changed: %v", want)
	}
	if got := q.colSum; fmt.Sprint(got) != fmt.Sprint([]int32{50 - 127 + 0 + 1, 0, 2 + 4 + 127 + 0}) {
		t.Fatalf("column sums %v", got)
	}
	// The packed layout: groups of 4 inputs, 16 columns of 4 bytes.
	for k := range 4 {
		for j := range 3 {
			if got := q.packed[j*4+k]; got != want[k*3+j] {
				t.Fatalf("packed code of input %d unit %d = %d, want %d", k, j, got, want[k*3+j])
			}
		}
	}
	if len(q.packed) != 1*16*4 {
		t.Fatalf("len(packed) = %d, want 64", len(q.packed))
	}
	d := q.Dequantized()
	for i, v := range w {
		if diff := math.Abs(float64(d[i] - v)); diff > float64(s[i%3])/2*1.0001 {
			t.Errorf("w[%d] = %v dequantizes to %v", i, v, d[i])
		}
	}
}

func TestQuantizeWeightsPanics(t *testing.T) {
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { QuantizeWeights(make([]float32, 4), 0, 4) }, "in = 0"},
		{func() { QuantizeWeights(make([]float32, 4), 4, 0) }, "units = 0"},
		{func() { QuantizeWeights(make([]float32, 3), 2, 2) }, "len(w) = 3, need 4"},
		{func() { QuantizeWeights(make([]float32, 2*(MaxInt8Inputs+1)), MaxInt8Inputs+1, 2) }, "in = 65537"},
		{func() { QuantizeWeights([]float32{1, float32(math.Inf(1))}, 1, 2) }, "w[1] = +Inf is not finite"},
	} {
		if got := mustPanic(c.f); !strings.Contains(got, c.want) {
			t.Errorf("panic %q, want it to contain %q", got, c.want)
		}
	}
}

func TestNewInt8Weights(t *testing.T) {
	q := []int8{1, -2, 3, 127, -127, 0}
	w, err := NewInt8Weights(q, []float32{0.5, 0.25, 0}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	q[0] = 9 // the weights hold a copy
	if w.Codes()[0] != 1 || w.In() != 2 || w.Units() != 3 || fmt.Sprint(w.colSum) != "[128 -129 3]" {
		t.Fatalf("got %v in %d units %d sums %v", w.Codes(), w.In(), w.Units(), w.colSum)
	}
	for _, c := range []struct {
		q         []int8
		s         []float32
		in, units int
		want      string
	}{
		{[]int8{1, 2}, []float32{1, 1}, 2, 2, "2 codes for a 2×2 kernel"},
		{[]int8{1, 2, 3, 4}, []float32{1}, 2, 2, "1 scales for 2 units"},
		{[]int8{1, -128, 3, 4}, []float32{1, 1}, 2, 2, "code [1] (input 0, unit 1) is -128"},
		{[]int8{1, 2, 3, 4}, []float32{1, float32(math.NaN())}, 2, 2, "scale [1] = NaN"},
		{[]int8{1, 2, 3, 4}, []float32{-1, 1}, 2, 2, "scale [0] = -1"},
		{[]int8{1, 2, 3, 4}, []float32{1, float32(math.Inf(1))}, 2, 2, "scale [1] = +Inf"},
		{nil, nil, 0, 2, "shape 0×2"},
		{nil, nil, MaxInt8Inputs + 1, 1, "shape 65537×1"},
	} {
		if _, err := NewInt8Weights(c.q, c.s, c.in, c.units); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewInt8Weights(%v, %v, %d, %d) = %v, want an error containing %q", c.q, c.s, c.in, c.units, err, c.want)
		}
	}
}

func TestQuantizeRowsU8Rules(t *testing.T) {
	x := []float32{
		0, 255, 127.5, 0.5, 1.5, // scale 1: ties to even, 127.5 → 128, 0.5 → 0, 1.5 → 2
		0, 0, 0, 0, 0, // all zeros: scale 1, zero point 0
		-1, -2, -4, -0.5, -3, // all negative: hi = 0, zero point 255
	}
	q := make([]uint8, 3*8)
	for i := range q {
		q[i] = 0xAA
	}
	scale := make([]float32, 3)
	zero := make([]int32, 3)
	refQuantizeRowsU8(q, 8, scale, zero, x, 5, 3, 5)
	if scale[0] != 1 || zero[0] != 0 || fmt.Sprint(q[:8]) != "[0 255 128 0 2 0 0 0]" {
		t.Errorf("row 0: scale %v zero %v codes %v", scale[0], zero[0], q[:8])
	}
	if scale[1] != 1 || zero[1] != 0 || fmt.Sprint(q[8:16]) != "[0 0 0 0 0 0 0 0]" {
		t.Errorf("row 1: scale %v zero %v codes %v", scale[1], zero[1], q[8:16])
	}
	if s := float32(4) / 255; scale[2] != s || zero[2] != 255 || q[16+2] != 0 || q[16] != uint8(255+roundEvenInt32(-1*(1/s))) {
		t.Errorf("row 2: scale %v zero %v codes %v", scale[2], zero[2], q[16:24])
	}
	// A row of tiny values: the scale's floor, every code in range and
	// the values back within half a step.
	tiny := []float32{1e-40, -3e-41, 0, 1e-45, -1e-45, 2e-39}
	tq := make([]uint8, 8)
	var ts [1]float32
	var tz [1]int32
	refQuantizeRowsU8(tq, 8, ts[:], tz[:], tiny, 6, 1, 6)
	if ts[0] != 0x1p-126 {
		t.Errorf("tiny row: scale %v, want 2⁻¹²⁶", ts[0])
	}
	for i, v := range tiny {
		if back := float64(int32(tq[i])-tz[0]) * float64(ts[0]); math.Abs(back-float64(v)) > float64(ts[0])*0.5001 {
			t.Errorf("tiny row: %v coded as %d (zero %d) comes back as %v", v, tq[i], tz[0], back)
		}
	}
	// On random rows: zero is exactly the zero point's code, every value
	// comes back within half a step, and the padding is zero.
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		k := 1 + r.IntN(50)
		row := make([]float32, k)
		for i := range row {
			row[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-4)))
			if r.IntN(5) == 0 {
				row[i] = 0
			}
			if r.IntN(3) == 0 {
				row[i] = float32(math.Abs(float64(row[i])))
			}
		}
		qq := make([]uint8, k+3)
		var s [1]float32
		var z [1]int32
		refQuantizeRowsU8(qq, k+3, s[:], z[:], row, k, 1, k)
		for i, v := range row {
			back := float64(int32(qq[i])-z[0]) * float64(s[0])
			if v == 0 && int32(qq[i]) != z[0] {
				t.Fatalf("0 coded as %d, zero point %d", qq[i], z[0])
			}
			if math.Abs(back-float64(v)) > float64(s[0])*0.5001 {
				t.Fatalf("%v coded as %d (scale %v, zero %d) comes back as %v", v, qq[i], s[0], z[0], back)
			}
		}
		if qq[k] != 0 || qq[k+1] != 0 || qq[k+2] != 0 {
			t.Fatalf("padding %v", qq[k:])
		}
	}
}

// TestInt8SumsExact drives the sums to their bounds: MaxInt8Inputs inputs
// of code 255 or 0 against weights of ±127, where acc and zero·colSum
// leave int32 range but their difference does not.
func TestInt8SumsExact(t *testing.T) {
	in, units := MaxInt8Inputs, 3
	q := make([]int8, in*units)
	for k := range in {
		q[k*units] = 127
		q[k*units+1] = -127
		q[k*units+2] = int8(127 - 254*(k%2))
	}
	w, err := NewInt8Weights(q, []float32{1, 1, 1}, in, units)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code uint8
		zero int32
	}{{255, 0}, {0, 255}, {255, 255}, {128, 7}} {
		a := make([]uint8, in)
		for i := range a {
			a[i] = c.code
		}
		forEachLevel(t, func(t *testing.T) {
			y := make([]float32, units)
			active.int8Dense(1, a, in, []float32{1}, []int32{c.zero}, w, make([]float32, units), y, units, nil, nil)
			for j := range units {
				var exact int64
				for k := range in {
					exact += (int64(c.code) - int64(c.zero)) * int64(q[k*units+j])
				}
				if float64(y[j]) != float64(float32(exact)) {
					t.Errorf("code %d zero %d unit %d: %v, exact sum %d", c.code, c.zero, j, y[j], exact)
				}
			}
		})
	}
}

// int8Case is one shape of the level tests.
type int8Case struct{ m, in, units, ldx, ldy, off int }

func int8Cases(r *rand.Rand) []int8Case {
	var cs []int8Case
	for _, m := range []int{1, 2, 3, 5, 31, 32, 33, 67} {
		for _, in := range []int{1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 100, 784} {
			for _, units := range []int{1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100} {
				if r.IntN(4) != 0 {
					continue // a quarter of the grid, different each seed
				}
				c := int8Case{m: m, in: in, units: units, ldx: in, ldy: units}
				if r.IntN(2) == 0 {
					c.ldx += 1 + r.IntN(5)
				}
				if r.IntN(2) == 0 {
					c.ldy += 1 + r.IntN(5)
				}
				c.off = r.IntN(3)
				cs = append(cs, c)
			}
		}
	}
	return append(cs, int8Case{m: 1, in: 784, units: 100, ldx: 784, ldy: 100}, int8Case{m: 1, in: 100, units: 10, ldx: 100, ldy: 10})
}

// int8Input fills an m×in matrix (leading dimension ldx, starting off
// elements into its buffer) with the kinds of rows a model feeds a layer:
// pixels in [0, 1], ReLU outputs (non-negative, many zeros), signed
// values, constant rows and rows of zeros.
func int8Input(r *rand.Rand, c int8Case) []float32 {
	x := make([]float32, c.off+(c.m-1)*c.ldx+c.in)[c.off:]
	for i := range c.m {
		row := x[i*c.ldx : i*c.ldx+c.in]
		kind := r.IntN(7)
		for k := range row {
			switch kind {
			case 6:
				// A tiny range (subnormals among them), where the scale's
				// floor keeps 1/scale finite.
				row[k] = float32(r.NormFloat64() * 1e-39)
			case 0:
				row[k] = float32(r.IntN(256)) / 255
			case 1:
				row[k] = float32(max(0, r.NormFloat64()*3))
			case 2:
				row[k] = float32(r.NormFloat64() * 10)
			case 3:
				row[k] = -2.5
			case 4:
				row[k] = 0
			default:
				row[k] = float32(r.Float64()*1e-3 - 2e-4)
			}
		}
	}
	return x
}

func TestQuantizeRowsU8Levels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, c := range int8Cases(r) {
			x := int8Input(r, c)
			ldq := roundUp(c.in, 4) + r.IntN(2)*4
			got := make([]uint8, c.m*ldq+8)
			for i := range got {
				got[i] = 0xA5
			}
			want := append([]uint8(nil), got...)
			gs, ws := make([]float32, c.m+1), make([]float32, c.m+1)
			gz, wz := make([]int32, c.m+1), make([]int32, c.m+1)
			gs[c.m], ws[c.m], gz[c.m], wz[c.m] = 7, 7, 7, 7
			QuantizeRowsU8(got[:c.m*ldq], ldq, gs[:c.m], gz[:c.m], x, c.ldx, c.m, c.in)
			refQuantizeRowsU8(want[:c.m*ldq], ldq, ws[:c.m], wz[:c.m], x, c.ldx, c.m, c.in)
			if fmt.Sprint(got) != fmt.Sprint(want) || firstDiff(gs, ws) >= 0 || fmt.Sprint(gz) != fmt.Sprint(wz) {
				t.Fatalf("%+v ldq %d: codes, scales or zero points differ from the reference (guards included)\n got %v %v\nwant %v %v", c, ldq, gs, gz, ws, wz)
			}
		}
	})
}

func TestDenseInt8Levels(t *testing.T) {
	acts := []Activation{ActLinear, ActReLU, ActSigmoid, ActSoftmax}
	forEachLevel(t, func(t *testing.T) {
		level := active
		r := rand.New(rand.NewPCG(7, 8))
		for _, c := range int8Cases(r) {
			act := acts[r.IntN(len(acts))]
			wf := make([]float32, c.in*c.units)
			for i := range wf {
				wf[i] = float32(r.NormFloat64() * 0.1)
			}
			if c.units > 2 {
				for k := range c.in {
					wf[k*c.units+1] = 0 // a dead unit: scale 0
				}
			}
			w := QuantizeWeights(wf, c.in, c.units)
			bias := make([]float32, c.units)
			for i := range bias {
				bias[i] = float32(r.NormFloat64())
			}
			x := int8Input(r, c)
			n := (c.m-1)*c.ldy + c.units
			buf, got := guarded(n)
			DenseInt8(act, c.m, x, c.ldx, w, bias, got, c.ldy)
			checkGuards(t, fmt.Sprintf("%+v", c), buf)
			// The reference: the generic level's two steps and activation.
			want := make([]float32, n)
			copy(want, got) // the cells between rows are not written
			kp := roundUp(c.in, 4)
			q := make([]uint8, c.m*kp)
			s, z := make([]float32, c.m), make([]int32, c.m)
			refQuantizeRowsU8(q, kp, s, z, x, c.ldx, c.m, c.in)
			refInt8Dense(c.m, q, kp, s, z, w, bias, want, c.ldy)
			applyActivationRows(level, act, c.m, c.units, want, c.ldy)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%+v %v: y[%d] = %v, reference %v", c, act, i, got[i], want[i])
			}
		}
	})
}

// TestDenseInt8Accuracy checks the whole approximation against the
// float32 layer: per element, the error is bounded by the two rounding
// steps, half a code of x times Σ|w| plus Σ|x| times half a weight step.
func TestDenseInt8Accuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	m, in, units := 16, 784, 100
	wf := make([]float32, in*units)
	for i := range wf {
		wf[i] = float32(r.NormFloat64() * 0.05)
	}
	w := QuantizeWeights(wf, in, units)
	bias := make([]float32, units)
	x := int8Input(r, int8Case{m: m, in: in, units: units, ldx: in, ldy: units})
	got := make([]float32, m*units)
	want := make([]float32, m*units)
	DenseInt8(ActLinear, m, x, in, w, bias, got, units)
	refDense(want, x, wf, bias, m, in, units)
	kp := roundUp(in, 4)
	q := make([]uint8, m*kp)
	s, z := make([]float32, m), make([]int32, m)
	refQuantizeRowsU8(q, kp, s, z, x, in, m, in)
	ws := w.Scales()
	for i := range m {
		for j := range units {
			var sumW, sumX float64
			for k := range in {
				sumW += math.Abs(float64(wf[k*units+j]))
				sumX += math.Abs(float64(x[i*in+k]))
			}
			bound := float64(s[i])/2*sumW + sumX*float64(ws[j])/2 + float64(s[i])*float64(ws[j])*float64(in)/4 + 1e-5
			if d := math.Abs(float64(got[i*units+j] - want[i*units+j])); d > bound {
				t.Fatalf("y[%d][%d] = %v, float32 %v: error %v over the bound %v", i, j, got[i*units+j], want[i*units+j], d, bound)
			}
		}
	}
}

// refDense is x·w + bias in float64, rounded once.
func refDense(y, x, w, bias []float32, m, in, units int) {
	for i := range m {
		for j := range units {
			s := float64(bias[j])
			for k := range in {
				s += float64(x[i*in+k]) * float64(w[k*units+j])
			}
			y[i*units+j] = float32(s)
		}
	}
}

func TestDenseInt8Panics(t *testing.T) {
	w := QuantizeWeights(make([]float32, 6), 2, 3)
	y := make([]float32, 6)
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { DenseInt8(ActReLU, 1, make([]float32, 2), 2, nil, make([]float32, 3), y, 3) }, "nil weights"},
		{func() { DenseInt8(ActReLU, -1, make([]float32, 2), 2, w, make([]float32, 3), y, 3) }, "m = -1"},
		{func() { DenseInt8(ActReLU, 1, make([]float32, 2), 1, w, make([]float32, 3), y, 3) }, "ldx"},
		{func() { DenseInt8(ActReLU, 1, make([]float32, 2), 2, w, make([]float32, 3), y, 2) }, "ldy"},
		{func() { DenseInt8(ActReLU, 2, make([]float32, 3), 2, w, make([]float32, 3), y, 3) }, "len(x) = 3, need 4"},
		{func() { DenseInt8(ActReLU, 1, make([]float32, 2), 2, w, make([]float32, 2), y, 3) }, "len(bias) = 2, need 3"},
		{func() { DenseInt8(ActReLU, 2, make([]float32, 4), 2, w, make([]float32, 3), y[:5], 3) }, "len(y) = 5, need 6"},
		{func() { DenseInt8(Activation(99), 1, make([]float32, 2), 2, w, make([]float32, 3), y, 3) }, "activation"},
		// The assembly's list of non-zero groups stores 16 values past
		// its end: a workspace without that room never reaches it.
		{func() {
			int8AsmArgs(1, make([]uint8, 16), 16, make([]float32, 1), make([]int32, 1), w, make([]float32, 3), y, 3, true, make([]int32, 16))
		}, "len(nz) = 16, need 17"},
	} {
		if got := mustPanic(c.f); !strings.Contains(got, c.want) {
			t.Errorf("panic %q, want it to contain %q", got, c.want)
		}
	}
}

func TestDenseInt8Allocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		w := QuantizeWeights(make([]float32, 784*100), 784, 100)
		x := make([]float32, 50*784)
		y := make([]float32, 50*100)
		bias := make([]float32, 100)
		if a := testing.AllocsPerRun(20, func() { DenseInt8(ActReLU, 50, x, 784, w, bias, y, 100) }); a != 0 {
			t.Errorf("%v allocations per call", a)
		}
		var s Int8Scratch
		if a := testing.AllocsPerRun(20, func() { s.DenseInt8(ActReLU, 50, x, 784, w, bias, y, 100) }); a != 0 {
			t.Errorf("Int8Scratch.DenseInt8: %v allocations per call", a)
		}
	})
}

// TestQuantizeRowsU8NonFinite plants a NaN or an infinity at each kind of
// place the levels read a row from (the first vector, the middle, a
// masked or scalar tail): that row, and only it, gets scale NaN and zero
// point 0 with its codes unwritten, at every level as in the reference;
// rows of huge but finite values are not flagged.
func TestQuantizeRowsU8NonFinite(t *testing.T) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0xffc00001)}
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, k := range []int{1, 3, 7, 8, 9, 15, 16, 17, 33, 100, 784} {
			for _, pos := range []int{0, k / 2, k - 1} {
				for bi, v := range bad {
					const m = 3
					x := make([]float32, m*k)
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					x[k+pos] = v
					ldq := roundUp(k, 4)
					for _, quantize := range []func(q []uint8, s []float32, z []int32){
						func(q []uint8, s []float32, z []int32) { QuantizeRowsU8(q, ldq, s, z, x, k, m, k) },
						func(q []uint8, s []float32, z []int32) { refQuantizeRowsU8(q, ldq, s, z, x, k, m, k) },
					} {
						q := make([]uint8, m*ldq)
						for i := range q {
							q[i] = 0xA5
						}
						s, z := []float32{-1, -1, -1}, []int32{-1, -1, -1}
						quantize(q, s, z)
						what := fmt.Sprintf("k %d, x[%d] = %v", k, pos, v)
						if !math.IsNaN(float64(s[1])) || z[1] != 0 {
							t.Fatalf("%s: row 1's scale %v and zero point %d, want NaN and 0", what, s[1], z[1])
						}
						if math.IsNaN(float64(s[0])) || math.IsNaN(float64(s[2])) {
							t.Fatalf("%s: a finite row got scale NaN: %v", what, s)
						}
						for i, c := range q[ldq : 2*ldq] {
							if c != 0xA5 {
								t.Fatalf("%s: code %d of the non-finite row written (%d)", what, i, c)
							}
						}
						if bi > 0 || pos > 0 {
							break // the reference once per k is enough
						}
					}
				}
			}
		}
		for _, row := range [][]float32{{math.MaxFloat32, 1}, {-math.MaxFloat32, math.MaxFloat32}, {0, -math.MaxFloat32, 3}} {
			s, z := make([]float32, 1), make([]int32, 1)
			QuantizeRowsU8(make([]uint8, 4), 4, s, z, row, len(row), 1, len(row))
			if math.IsNaN(float64(s[0])) {
				t.Errorf("finite row %v flagged as not finite", row)
			}
		}
	})
}

// TestDenseInt8ReportsNonFinite checks DenseInt8's result: true for a
// finite x, false when any row of any block holds a NaN or ±Inf, the
// same from a caller's Int8Scratch, whose outputs are DenseInt8's bits.
func TestDenseInt8ReportsNonFinite(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		const m, in, units = 70, 100, 10
		wf := make([]float32, in*units)
		for i := range wf {
			wf[i] = float32(r.NormFloat64())
		}
		w := QuantizeWeights(wf, in, units)
		bias := make([]float32, units)
		x := make([]float32, m*in)
		for i := range x {
			x[i] = float32(r.Float64())
		}
		y, y2 := make([]float32, m*units), make([]float32, m*units)
		var s Int8Scratch
		if !DenseInt8(ActReLU, m, x, in, w, bias, y, units) || !s.DenseInt8(ActReLU, m, x, in, w, bias, y2, units) {
			t.Fatal("finite x reported as not finite")
		}
		if i := firstDiff(y, y2); i >= 0 {
			t.Fatalf("Int8Scratch.DenseInt8 y[%d] = %v, DenseInt8 %v", i, y2[i], y[i])
		}
		for _, at := range []int{0, 31*in + 99, 33*in + 50, m*in - 1} {
			for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
				old := x[at]
				x[at] = v
				if DenseInt8(ActReLU, m, x, in, w, bias, y, units) || s.DenseInt8(ActSoftmax, m, x, in, w, bias, y, units) {
					t.Errorf("x[%d] = %v not reported", at, v)
				}
				x[at] = old
			}
		}
	})
}

// TestInt8DenseRowsApart drives each level's product with rows of codes
// whose leading dimension is not a multiple of 4 (the assembly's groups
// then run into the next row, against zero weights) and with junk past
// w.In() in every row: the reference reads only w.In() codes.
func TestInt8DenseRowsApart(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forEachLevel(t, func(t *testing.T) {
		for _, c := range []struct{ m, in, units, lda int }{{5, 17, 9, 19}, {3, 5, 33, 5}, {9, 63, 16, 66}, {2, 100, 10, 103}} {
			wf := make([]float32, c.in*c.units)
			for i := range wf {
				wf[i] = float32(r.NormFloat64())
			}
			w := QuantizeWeights(wf, c.in, c.units)
			// Long enough for the AVX-512 kernel's blocks of 4 groups.
			a := make([]uint8, (c.m-1)*c.lda+roundUp(c.in, 16))
			for i := range a {
				a[i] = uint8(r.IntN(256))
			}
			scale, zero, bias := make([]float32, c.m), make([]int32, c.m), make([]float32, c.units)
			for i := range scale {
				scale[i], zero[i] = float32(r.Float64()), int32(r.IntN(256))
			}
			buf, got := guarded((c.m-1)*c.units + c.units)
			want := clone(got)
			active.int8Dense(c.m, a, c.lda, scale, zero, w, bias, got, c.units, nil, nil)
			refInt8Dense(c.m, a, c.lda, scale, zero, w, bias, want, c.units)
			checkGuards(t, fmt.Sprintf("%+v", c), buf)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%+v: y[%d] = %v, reference %v", c, i, got[i], want[i])
			}
		}
	})
}

// TestDenseInt8SparseRows: rows whose groups of 4 inputs are often all
// zero (images' backgrounds, ReLU outputs), which a level's one-row tiles
// may skip (the AVX-512 product lists the other groups): every density
// from none to all, around the 7/8 at which it stops listing, zeros in
// runs and scattered, in the last partial block of 16 groups, over one
// row, the odd rows after tiles of 4, and more columns than one tile.
func TestDenseInt8SparseRows(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, m := range []int{1, 2, 5, 7} {
			for _, in := range []int{1, 4, 5, 17, 63, 64, 65, 100, 784, 1001} {
				for _, units := range []int{1, 4, 16, 17, 100, 129, 200} {
					kg := ceilDiv(in, 4)
					x := make([]float32, m*in)
					for i := range m {
						row := x[i*in : (i+1)*in]
						for k := range row {
							row[k] = float32(1+r.IntN(255)) / 255
						}
						// How many groups to clear: none, all, one, the
						// threshold ±1, or a random share.
						var zero []int
						switch p := r.Perm(kg); r.IntN(7) {
						case 0:
						case 1:
							zero = p
						case 2:
							zero = p[:1]
						case 3:
							zero = p[:kg-kg*7/8] // just listed
						case 4:
							zero = p[:max(0, kg-kg*7/8-1)] // just dense
						case 5:
							// A run: a background at the start or end.
							lo := r.IntN(kg)
							for g := lo; g < kg; g++ {
								zero = append(zero, g)
							}
						default:
							zero = p[:r.IntN(kg+1)]
						}
						for _, g := range zero {
							clear(row[4*g : min(in, 4*g+4)])
						}
						if r.IntN(2) == 0 {
							// Single zeros too: a group with some zero
							// codes is not skipped.
							for k := range row {
								if r.IntN(3) == 0 {
									row[k] = 0
								}
							}
						}
					}
					w, bias := randomInt8Layer(r, in, units)
					buf, got := guarded(m * units)
					DenseInt8(ActLinear, m, x, in, w, bias, got, units)
					checkGuards(t, fmt.Sprintf("m %d in %d units %d", m, in, units), buf)
					kp := roundUp(in, 4)
					q := make([]uint8, m*kp)
					s, z := make([]float32, m), make([]int32, m)
					refQuantizeRowsU8(q, kp, s, z, x, in, m, in)
					want := make([]float32, m*units)
					refInt8Dense(m, q, kp, s, z, w, bias, want, units)
					if i := firstDiff(got, want); i >= 0 {
						t.Fatalf("m %d in %d units %d: y[%d] = %v, reference %v", m, in, units, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// randomInt8Layer makes an in×units layer of standard normal weights,
// quantized, and standard normal biases.
func randomInt8Layer(r *rand.Rand, in, units int) (*Int8Weights, []float32) {
	wf := make([]float32, in*units)
	for i := range wf {
		wf[i] = float32(r.NormFloat64())
	}
	bias := make([]float32, units)
	for i := range bias {
		bias[i] = float32(r.NormFloat64())
	}
	return QuantizeWeights(wf, in, units), bias
}
