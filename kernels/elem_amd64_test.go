//go:build gc && !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// Tests of the assembly elementwise, row and loss kernels beyond what
// kernels_test.go asks of every level. The exponential-based kernels
// compute exp32, sigmoid32 and tanh32 lane by lane with the reference's
// own float32 operations, so they are held to the reference's bits (and
// hence to its exhaustively proved ulp bounds) as well as checked against
// float64; the exact kernels must match the generic level bit for bit;
// Softmax and the cross-entropy, whose float64 sums run in another order,
// must stay within 1 ulp of the generic level and within their
// documented bounds of float64. Every output sits at an unaligned offset
// between NaN guard cells.

// vecSet is one assembly level's vector functions, for direct sweeps.
type vecSet struct {
	level              string
	exp, sigmoid, tanh func(dst, x []float32)
}

// vecSetLevels returns the assembly levels this CPU runs.
func vecSetLevels() []vecSet {
	var out []vecSet
	for _, l := range Available() {
		switch l {
		case "avx2":
			out = append(out, vecSet{level: l, exp: asm.ExpAVX2, sigmoid: asm.SigmoidAVX2, tanh: asm.TanhAVX2})
		case "avx512":
			out = append(out, vecSet{level: l, exp: asm.ExpAVX512, sigmoid: asm.SigmoidAVX512, tanh: asm.TanhAVX512})
		}
	}
	return out
}

// elemVecFns pairs each vector function with its scalar reference and
// float64 function and bound.
func elemVecFns(l vecSet) []struct {
	fn     func(dst, x []float32)
	scalar scalarFn
} {
	return []struct {
		fn     func(dst, x []float32)
		scalar scalarFn
	}{{l.exp, scalarFns[0]}, {l.sigmoid, scalarFns[1]}, {l.tanh, scalarFns[2]}}
}

// floatAt maps a point of the ordered integer line back to its float32.
func floatAt(i int64) float32 {
	if i < 0 {
		return math.Float32frombits(uint32(int32(math.MinInt32 - i)))
	}
	return math.Float32frombits(uint32(i))
}

// sweepVec runs fn over every step-th float32 from lo to hi in batches of
// odd length (so every batch ends in a tail) and requires, per input, the
// bits of the scalar reference and the documented bound against float64.
func sweepVec(t *testing.T, what string, fn func(dst, x []float32), sf scalarFn, lo, hi int64, step int64, checkF64 bool) {
	t.Helper()
	const batch = 4093
	workers := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := make([]float32, batch)
			y := make([]float32, batch)
			var bad []string
			for start := lo + int64(w)*step*batch; start <= hi && len(bad) < 5; start += int64(workers) * step * batch {
				n := 0
				for i := start; i <= hi && n < batch; i += step {
					x[n] = floatAt(i)
					n++
				}
				fn(y[:n], x[:n])
				for k, v := range x[:n] {
					want := sf.f(v)
					if !sameBitsOrNaN(y[k], want) {
						bad = append(bad, fmt.Sprintf("%s: vector %s(%v) = %v (%#x), scalar %v (%#x)", what, sf.name, v, y[k], math.Float32bits(y[k]), want, math.Float32bits(want)))
						break
					}
					if checkF64 {
						if w64 := sf.ref(float64(v)); !withinUlp(y[k], w64, sf.ulp) {
							bad = append(bad, fmt.Sprintf("%s: %s(%v) = %v, want %v within %d ulp", what, sf.name, v, y[k], w64, sf.ulp))
							break
						}
					}
				}
			}
			mu.Lock()
			errs = append(errs, bad...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
}

// TestElemVectorFunctionsSweep: about two million inputs per function and
// level, over every binade from −Inf to +Inf, bit-identical to the scalar
// reference and within the documented bound of float64 (exp 1 ulp,
// sigmoid 2, tanh 1; absolute 2⁻¹²⁶ where the result is below the normal
// range, which covers the flushed results).
func TestElemVectorFunctionsSweep(t *testing.T) {
	lo, hi := ordered(float32(math.Inf(-1))), ordered(float32(math.Inf(1)))
	step := (hi-lo)/(2<<20) | 1
	for _, l := range vecSetLevels() {
		for _, f := range elemVecFns(l) {
			sweepVec(t, l.level+" "+f.scalar.name, f.fn, f.scalar, lo, hi, step, true)
		}
		// Every input whose exponential lands near the flush threshold
		// 2⁻¹²⁶, where the AVX2 code decides the flush from n and p.
		for _, f := range elemVecFns(l)[:2] {
			sweepVec(t, l.level+" "+f.scalar.name+" near the flush", f.fn, f.scalar, ordered(-88.5), ordered(-86), 1, true)
		}
	}
}

// TestElemVectorFunctionsExhaustive checks every float32 input against
// the scalar bits, which TestScalarExhaustive checks against float64: the
// two together prove the documented bounds for the assembly. It takes
// minutes, so it runs only when SIMDMLP_EXHAUSTIVE=1.
func TestElemVectorFunctionsExhaustive(t *testing.T) {
	if os.Getenv("SIMDMLP_EXHAUSTIVE") != "1" {
		t.Skip("set SIMDMLP_EXHAUSTIVE=1 to check every float32 input")
	}
	lo, hi := ordered(float32(math.Inf(-1))), ordered(float32(math.Inf(1)))
	for _, l := range vecSetLevels() {
		for _, f := range elemVecFns(l) {
			sweepVec(t, l.level+" "+f.scalar.name, f.fn, f.scalar, lo-1, hi+1, 1, false)
		}
	}
	// NaN payloads beyond the ordered line's ends.
	for _, l := range vecSetLevels() {
		for _, f := range elemVecFns(l) {
			x := []float32{math.Float32frombits(0x7fc00001), math.Float32frombits(0xffffffff), math.Float32frombits(0x7f800001)}
			y := make([]float32, len(x))
			f.fn(y, x)
			for k := range y {
				if y[k] == y[k] {
					t.Errorf("%s %s(NaN %#x) = %v", l.level, f.scalar.name, math.Float32bits(x[k]), y[k])
				}
			}
		}
	}
}

// elemSpecialInputs are the values the brief of every exp-based kernel
// names: ±Inf, NaN, ±88, huge values, the edges of the overflow and flush
// thresholds, results in the subnormal range (which are flushed), the tanh
// switch point, and −0.
var elemSpecialInputs = append([]float32{
	-87.3365, -87.3366, -87.5, -95, -103.9, -104, -149, -150, 88.7228, 88.72283935546875, 88.722839,
	44.36, -44.36, 0x1p-126, -0x1p-126, 1e-45, -1e-45, 3e38, -3e38, 1e-7, -1e-7,
}, specials...)

// TestElemVectorFunctionsSpecials runs the special inputs at every lane
// position of a vector, including the masked tail lanes.
func TestElemVectorFunctionsSpecials(t *testing.T) {
	for _, l := range vecSetLevels() {
		for _, f := range elemVecFns(l) {
			for n := 1; n <= 33; n++ {
				for _, v := range elemSpecialInputs {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i) * 0.37
					}
					x[n-1], x[n/2] = v, v
					y := make([]float32, n)
					f.fn(y, x)
					for i := range x {
						if want := f.scalar.f(x[i]); !sameBitsOrNaN(y[i], want) {
							t.Fatalf("%s %s n=%d: (%v) = %v, scalar %v", l.level, f.scalar.name, n, x[i], y[i], want)
						}
						if !withinUlp(y[i], f.scalar.ref(float64(x[i])), f.scalar.ulp) {
							t.Fatalf("%s %s(%v) = %v, want %v", l.level, f.scalar.name, x[i], y[i], f.scalar.ref(float64(x[i])))
						}
					}
				}
			}
		}
	}
}

// elemOffsets are the element offsets of outputs and inputs from an
// allocation's start: a vector load at any of them but 0 is unaligned.
var elemOffsets = []int{0, 1, 3}

// elemBuf returns n cells at element offset off inside a buffer padded by
// NaN guard cells, and the buffer.
func elemBuf(n, off int) (buf, s []float32) {
	buf = make([]float32, off+n+2*guardN)
	g := math.Float32frombits(guardBits)
	for i := range buf {
		buf[i] = g
	}
	return buf, buf[off+guardN : off+guardN+n : off+guardN+n]
}

func checkElemGuards(t *testing.T, what string, buf []float32, n, off int) {
	t.Helper()
	for i, v := range buf {
		if i >= off+guardN && i < off+guardN+n {
			continue
		}
		if math.Float32bits(v) != guardBits {
			t.Fatalf("%s: guard cell %d (relative to the output) overwritten with %v", what, i-off-guardN, v)
		}
	}
}

// elemCopy returns a copy of s at element offset off of a fresh array.
func elemCopy(s []float32, off int) []float32 {
	b := make([]float32, off+len(s))
	copy(b[off:], s)
	return b[off:]
}

// elemSizes are testSizes plus the trainer's hidden matrix and odd
// lengths around it.
func elemSizes(r *rand.Rand) []int {
	return append(testSizes(r), 3199, 3201, 1+r.IntN(9000))
}

// TestElemUnaryLevels: Relu, Sigmoid, Tanh and the three gradients give
// the generic level's bits on every level, for every length and offset,
// out of place and in place, with specials mixed in.
func TestElemUnaryLevels(t *testing.T) {
	type unary struct {
		name string
		api  func(dst, x []float32)
		gen  func(dst, x []float32)
	}
	unaries := []unary{{"Relu", Relu, refRelu}, {"Sigmoid", Sigmoid, refSigmoid}, {"Tanh", Tanh, refTanh}}
	type binary struct {
		name string
		api  func(dx, dy, y []float32)
		gen  func(dx, dy, y []float32)
	}
	binaries := []binary{{"ReluGrad", ReluGrad, refReluGrad}, {"SigmoidGrad", SigmoidGrad, refSigmoidGrad}, {"TanhGrad", TanhGrad, refTanhGrad}}
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 21))
		for _, n := range elemSizes(r) {
			for _, off := range elemOffsets {
				x := elemCopy(randInput(r, n, 6, true), off)
				x2 := elemCopy(randInput(r, n, 1, true), off+1)
				x0, x20 := clone(x), clone(x2)
				for _, u := range unaries {
					want := make([]float32, n)
					u.gen(want, x)
					buf, dst := elemBuf(n, off)
					u.api(dst, x)
					what := fmt.Sprintf("%s n=%d off=%d", u.name, n, off)
					checkElemGuards(t, what, buf, n, off)
					if i := firstDiffNaN(dst, want); i >= 0 {
						t.Fatalf("%s: x[%d] = %v: got %v, generic %v", what, i, x[i], dst[i], want[i])
					}
					if i := firstDiff(x, x0); i >= 0 {
						t.Fatalf("%s: input x[%d] changed", what, i)
					}
					in := clone(x)
					u.api(in, in)
					if i := firstDiffNaN(in, want); i >= 0 {
						t.Fatalf("%s in place: [%d] = %v, want %v", what, i, in[i], want[i])
					}
				}
				for _, b := range binaries {
					want := make([]float32, n)
					b.gen(want, x2, x)
					buf, dx := elemBuf(n, off+2)
					b.api(dx, x2, x)
					what := fmt.Sprintf("%s n=%d off=%d", b.name, n, off)
					checkElemGuards(t, what, buf, n, off+2)
					if i := firstDiffNaN(dx, want); i >= 0 {
						t.Fatalf("%s: dy=%v y=%v: got %v, generic %v", what, x2[i], x[i], dx[i], want[i])
					}
					if firstDiff(x, x0) >= 0 || firstDiff(x2, x20) >= 0 {
						t.Fatalf("%s: an input changed", what)
					}
					in := clone(x2)
					b.api(in, in, x)
					if i := firstDiffNaN(in, want); i >= 0 {
						t.Fatalf("%s in place: [%d] = %v, want %v", what, i, in[i], want[i])
					}
				}
			}
		}
	})
}

// elemShapes are the row kernels' shapes: every width up to three AVX-512
// vectors and one around a few row counts, the trainer's, and row counts
// past the 64-row chunks of the cross-entropy and CountCorrect glue.
func elemShapes(r *rand.Rand) [][2]int {
	s := testShapes(r)
	for cols := 1; cols <= 3*16+1; cols++ {
		s = append(s, [2]int{1 + cols%4, cols})
	}
	return append(s, [2]int{32, 10}, [2]int{32, 100}, [2]int{64, 10}, [2]int{65, 10}, [2]int{130, 3}, [2]int{200, 17}, [2]int{3, 1000})
}

// TestElemRowLevels: AddBias, the fused bias activations, SoftmaxGrad,
// Argmax and CountCorrect give the generic level's bits; Softmax and
// BiasActivation(softmax) stay within 1 ulp of it and within the
// documented bound of float64.
func TestElemRowLevels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(22, 22))
		for _, sh := range elemShapes(r) {
			rows, cols := sh[0], sh[1]
			n := rows * cols
			for _, off := range elemOffsets {
				what := fmt.Sprintf("%s off=%d", shapeName(rows, cols), off)
				x := elemCopy(softmaxRows(r, rows, cols), off)
				bias := elemCopy(randInput(r, cols, 2, true), off+1)
				x0, bias0 := clone(x), clone(bias)

				for _, act := range Activations() {
					want := clone(x)
					generic.acts[ActLinear].bias(want, bias, rows, cols)
					biased := clone(want)
					generic.acts[act].forward(want, want, rows, cols)
					buf, got := elemBuf(n, off)
					copy(got, x)
					BiasActivation(act, got, bias, rows, cols)
					checkElemGuards(t, fmt.Sprintf("BiasActivation(%v) %s", act, what), buf, n, off)
					if act == ActSoftmax {
						checkSoftmax(t, "BiasActivation(softmax) "+what, biased, got, rows, cols)
						checkNearGeneric(t, "BiasActivation(softmax) "+what, got, want)
					} else if i := firstDiffNaN(got, want); i >= 0 {
						t.Fatalf("BiasActivation(%v) %s: [%d] = %v, generic %v", act, what, i, got[i], want[i])
					}
				}
				if firstDiff(bias, bias0) >= 0 {
					t.Fatalf("%s: bias changed", what)
				}

				// Softmax, out of place and in place.
				want := make([]float32, n)
				generic.acts[ActSoftmax].forward(want, x, rows, cols)
				buf, dst := elemBuf(n, off+1)
				Softmax(dst, x, rows, cols)
				checkElemGuards(t, "Softmax "+what, buf, n, off+1)
				checkSoftmax(t, "Softmax "+what, x, dst, rows, cols)
				checkNearGeneric(t, "Softmax "+what, dst, want)
				if firstDiff(x, x0) >= 0 {
					t.Fatalf("Softmax %s: input changed", what)
				}
				in := clone(x)
				Softmax(in, in, rows, cols)
				if i := firstDiffNaN(in, dst); i >= 0 {
					t.Fatalf("Softmax in place %s: [%d] = %v, out of place %v", what, i, in[i], dst[i])
				}

				// SoftmaxGrad, bit for bit, also in place.
				y := clone(dst)
				dy := elemCopy(randInput(r, n, 1, false), off+2)
				wantG := make([]float32, n)
				generic.acts[ActSoftmax].grad(wantG, dy, y, rows, cols)
				buf, dx := elemBuf(n, off)
				SoftmaxGrad(dx, dy, y, rows, cols)
				checkElemGuards(t, "SoftmaxGrad "+what, buf, n, off)
				if i := firstDiffNaN(dx, wantG); i >= 0 {
					t.Fatalf("SoftmaxGrad %s: [%d] = %v, generic %v", what, i, dx[i], wantG[i])
				}
				SoftmaxGrad(dy, dy, y, rows, cols)
				if i := firstDiffNaN(dy, wantG); i >= 0 {
					t.Fatalf("SoftmaxGrad in place %s: [%d] = %v, generic %v", what, i, dy[i], wantG[i])
				}

				// Argmax and CountCorrect on ties, specials and the logits.
				if cols == 0 {
					continue
				}
				for _, src := range [][]float32{x, tieRows(r, n)} {
					idx := make([]int32, rows+1)
					idx[rows] = -7
					Argmax(idx[:rows], src, rows, cols)
					if idx[rows] != -7 {
						t.Fatalf("Argmax %s wrote past dst", what)
					}
					wantIdx := make([]int32, rows)
					generic.argmax(wantIdx, src, rows, cols)
					labels := make([]int32, rows)
					for i := range labels {
						if idx[i] != wantIdx[i] {
							t.Fatalf("Argmax %s: row %d %v: %d, generic %d", what, i, src[i*cols:(i+1)*cols], idx[i], wantIdx[i])
						}
						labels[i] = int32(r.IntN(cols + 1))
					}
					if got, want := CountCorrect(src, labels, rows, cols), generic.countCorrect(src, labels, rows, cols); got != want {
						t.Fatalf("CountCorrect %s: %d, generic %d", what, got, want)
					}
				}
			}
		}
	})
}

// tieRows returns values drawn from few distinct ones, with specials (NaN,
// ±0, ±Inf) mixed in, so that ties and NaN rules are exercised.
func tieRows(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for k := range x {
		x[k] = float32(r.IntN(4))
		if r.IntN(8) == 0 {
			x[k] = specials[r.IntN(len(specials))]
		}
	}
	return x
}

// elemCERows returns logits of several kinds, including rows with the
// extremes the cross-entropy documents.
func elemCERows(r *rand.Rand, rows, cols int) []float32 {
	z := softmaxRows(r, rows, cols)
	extremes := [][]float32{
		{3e38, -3e38}, {-3e38, 3e38}, {88, -88}, {0, -87.5}, {0, -100}, {30, 0}, {-1e30, -1e30},
		{float32(math.Inf(-1)), 0}, {1, float32(math.NaN())}, {float32(math.Inf(1)), 1},
	}
	for i := 0; i < rows; i += 3 {
		e := extremes[(i/3)%len(extremes)]
		copy(z[i*cols:(i+1)*cols], e)
	}
	return z
}

// TestElemCrossEntropyLevels: probs and grad within 1 ulp of the generic
// level and within 4 ulp of float64, the loss within relative 1e-13 of the
// generic level's and 2⁻²² of float64, for every combination of outputs,
// unaligned, with row counts past the 64-row chunks.
func TestElemCrossEntropyLevels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 23))
		for _, sh := range elemShapes(r) {
			rows, cols := sh[0], sh[1]
			if cols == 0 || rows == 0 {
				continue
			}
			n := rows * cols
			for _, off := range elemOffsets {
				what := fmt.Sprintf("%s off=%d", shapeName(rows, cols), off)
				z := elemCopy(elemCERows(r, rows, cols), off)
				labels := make([]int32, rows)
				for i := range labels {
					labels[i] = int32(r.IntN(cols))
				}
				z0 := clone(z)
				wp, wg := make([]float32, n), make([]float32, n)
				wantLoss := generic.softmaxCrossEntropy(wp, wg, z, labels, rows, cols)
				pbuf, probs := elemBuf(n, off+1)
				gbuf, grad := elemBuf(n, off+2)
				loss := SoftmaxCrossEntropy(probs, grad, z, labels, rows, cols)
				checkElemGuards(t, "probs "+what, pbuf, n, off+1)
				checkElemGuards(t, "grad "+what, gbuf, n, off+2)
				if firstDiff(z, z0) >= 0 {
					t.Fatalf("%s: logits changed", what)
				}
				if !(math.Abs(loss-wantLoss) <= 1e-13*math.Abs(wantLoss)) && !(math.IsNaN(loss) && math.IsNaN(wantLoss)) && loss != wantLoss {
					t.Fatalf("%s: loss %v, generic %v", what, loss, wantLoss)
				}
				checkNearGeneric(t, "probs "+what, probs, wp)
				checkNearGeneric(t, "grad "+what, grad, wg)
				var sum64 float64
				for i := 0; i < rows; i++ {
					row := z[i*cols : (i+1)*cols]
					wl, p64, g64 := ceRef64(row, int(labels[i]))
					sum64 += wl
					for j := range row {
						k := i*cols + j
						if !withinUlp(probs[k], p64[j], softmaxUlp) || !withinUlp(grad[k], g64[j]/float64(rows), softmaxUlp) {
							t.Fatalf("%s row %d %v label %d: [%d] probs %v grad %v, want %v %v", what, i, row, labels[i], j, probs[k], grad[k], p64[j], g64[j]/float64(rows))
						}
					}
				}
				if !ceLossOK(loss, sum64) {
					t.Fatalf("%s: loss %v, float64 %v", what, loss, sum64)
				}
				for _, c := range []struct{ p, g bool }{{false, false}, {true, false}, {false, true}} {
					var p2, g2 []float32
					if c.p {
						p2 = make([]float32, n)
					}
					if c.g {
						g2 = make([]float32, n)
					}
					l2 := SoftmaxCrossEntropy(p2, g2, z, labels, rows, cols)
					if math.Float64bits(l2) != math.Float64bits(loss) && !(math.IsNaN(l2) && math.IsNaN(loss)) {
						t.Fatalf("%s probs=%v grad=%v: loss %v, with both %v", what, c.p, c.g, l2, loss)
					}
					if c.p && firstDiffNaN(p2, probs) >= 0 || c.g && firstDiffNaN(g2, grad) >= 0 {
						t.Fatalf("%s probs=%v grad=%v: outputs differ from the call with both", what, c.p, c.g)
					}
				}
			}
		}
	})
}

// TestElemNoAllocs: the assembly levels allocate nothing, including the
// glue's chunking past 64 rows.
func TestElemNoAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(24, 24))
		const rows, cols = 200, 10
		x := randInput(r, rows*cols, 2, false)
		p, g := make([]float32, rows*cols), make([]float32, rows*cols)
		labels := make([]int32, rows)
		idx := make([]int32, rows)
		bias := randInput(r, 100, 1, false)
		h := randInput(r, 3200, 2, false)
		for name, f := range map[string]func(){
			"SoftmaxCrossEntropy":      func() { SoftmaxCrossEntropy(p, g, x, labels, rows, cols) },
			"SoftmaxCrossEntropy eval": func() { SoftmaxCrossEntropy(nil, nil, x, labels, rows, cols) },
			"CountCorrect":             func() { CountCorrect(x, labels, rows, cols) },
			"Argmax":                   func() { Argmax(idx, x, rows, cols) },
			"Softmax":                  func() { Softmax(p, x, rows, cols) },
			"BiasActivation softmax":   func() { BiasActivation(ActSoftmax, p, bias[:cols], rows, cols) },
			"BiasActivation tanh":      func() { BiasActivation(ActTanh, h, bias, 32, 100) },
			"SoftmaxGrad":              func() { SoftmaxGrad(g, p, x, rows, cols) },
		} {
			if a := testing.AllocsPerRun(10, f); a != 0 {
				t.Errorf("%s: %v allocations per call", name, a)
			}
		}
	})
}

// FuzzElemLevels runs arbitrary float32 data through every elementwise
// and row kernel on every level and requires the generic level's bits
// (Softmax and the cross-entropy: within 1 ulp, loss within 1e-13).
//
//	go test -run '^$' -fuzz FuzzElemLevels -fuzztime 2000x ./kernels
func FuzzElemLevels(f *testing.F) {
	f.Add(fuzzBytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), uint8(3), uint8(1))
	f.Add(fuzzBytes(3e38, -3e38, float32(math.NaN()), 0, -87.5, 88, float32(math.Inf(-1)), 0.625, -0.625), uint8(2), uint8(0))
	f.Add(fuzzBytes(specials...), uint8(10), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, c, lab uint8) {
		x := fuzzFloats(data)
		n := len(x)
		cols := int(c)
		rows := 0
		if cols > 0 {
			rows = n / cols
		}
		m := rows * cols
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32((int(lab) + 7*i) % max(cols, 1))
		}
		y := make([]float32, n)
		for i := range y {
			y[i] = x[n-1-i]
		}
		type out struct {
			unary [6][]float32
			rowk  [numActivations + 1][]float32
			probs []float32
			grad  []float32
			loss  float64
			idx   []int32
		}
		run := func(l *impl) (o out) {
			elementwise := []Activation{ActReLU, ActSigmoid, ActTanh}
			for k, act := range elementwise {
				o.unary[k] = make([]float32, n)
				l.acts[act].forward(o.unary[k], x, 1, n)
			}
			for k, act := range elementwise {
				o.unary[3+k] = make([]float32, n)
				l.acts[act].grad(o.unary[3+k], x, y, 1, n)
			}
			if cols == 0 || rows == 0 {
				return o
			}
			for k, act := range Activations() {
				o.rowk[k] = clone(x[:m])
				l.acts[act].bias(o.rowk[k], y[:cols], rows, cols)
			}
			o.rowk[numActivations] = make([]float32, m)
			l.acts[ActSoftmax].grad(o.rowk[numActivations], x[:m], y[:m], rows, cols)
			o.probs, o.grad = make([]float32, m), make([]float32, m)
			o.loss = l.softmaxCrossEntropy(o.probs, o.grad, x[:m], labels, rows, cols)
			o.idx = make([]int32, rows)
			l.argmax(o.idx, x[:m], rows, cols)
			return o
		}
		want := run(generic)
		for _, l := range levels[1:] {
			got := run(l)
			for k := range got.unary {
				if i := firstDiffNaN(got.unary[k], want.unary[k]); i >= 0 {
					t.Fatalf("%s unary kernel %d: [%d] x=%v y=%v: %v, generic %v", l.name, k, i, x[i], y[i], got.unary[k][i], want.unary[k][i])
				}
			}
			if cols == 0 || rows == 0 {
				continue
			}
			for k := range got.rowk {
				if k == 4 {
					checkNearGeneric(t, l.name+" BiasSoftmax", got.rowk[k], want.rowk[k])
				} else if i := firstDiffNaN(got.rowk[k], want.rowk[k]); i >= 0 {
					t.Fatalf("%s row kernel %d %s: [%d] %v, generic %v", l.name, k, shapeName(rows, cols), i, got.rowk[k][i], want.rowk[k][i])
				}
			}
			checkNearGeneric(t, l.name+" probs", got.probs, want.probs)
			checkNearGeneric(t, l.name+" grad", got.grad, want.grad)
			if !(math.Abs(got.loss-want.loss) <= 1e-13*math.Abs(want.loss)) && got.loss != want.loss && !(math.IsNaN(got.loss) && math.IsNaN(want.loss)) {
				t.Fatalf("%s loss %v, generic %v", l.name, got.loss, want.loss)
			}
			for i := range got.idx {
				if got.idx[i] != want.idx[i] {
					t.Fatalf("%s Argmax row %d %v: %d, generic %d", l.name, i, x[i*cols:(i+1)*cols], got.idx[i], want.idx[i])
				}
			}
		}
	})
}

// TestElemCrossEntropyLossSweep drives the assembly's float64 logarithm
// over its whole range: the label the row maximum with the other
// exponentials from 1 down to the flush threshold (log1p of tiny values),
// the label below the maximum, and rows wide enough that s reaches 2¹⁰.
// Each row's loss must be within relative 1e-14 of the generic level's
// (math.Log, math.Log1p) and its NaN-ness the same.
func TestElemCrossEntropyLossSweep(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 25))
		check := func(z []float32, label int32) {
			cols := len(z)
			labels := []int32{label}
			got := SoftmaxCrossEntropy(nil, nil, z, labels, 1, cols)
			want := generic.softmaxCrossEntropy(nil, nil, z, labels, 1, cols)
			if !(math.Abs(got-want) <= 1e-14*math.Abs(want)) && got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("row %v label %d: loss %v, generic %v", z, label, got, want)
			}
		}
		for d := float32(0); d < 90; d += 0.013 {
			check([]float32{0, -d}, 0)
			check([]float32{0, -d}, 1)
			check([]float32{-d, 0, -d / 2}, 1)
			check([]float32{-d, 0, -d / 2}, 2)
		}
		for _, cols := range []int{2, 3, 5, 10, 100, 1000, 1500} {
			for range 20 {
				z := randInput(r, cols, 0.01+r.Float64()*3, false)
				check(z, int32(r.IntN(cols)))
			}
			check(make([]float32, cols), int32(cols-1))
		}
	})
}

// TestElemAsmAllWidths calls the assembly row kernels directly on every
// width up to three AVX-512 vectors and one, including the narrow rows the
// dispatch hands to the generic or AVX2 code (byCols), so that no path of
// the generated code goes untested: bits as the generic level for the
// exact kernels, within 1 ulp for Softmax, and the cross-entropy's loss
// within relative 1e-13.
func TestElemAsmAllWidths(t *testing.T) {
	type bias = func(x, b []float32, rows, cols int)
	type rowSet struct {
		level                                  string
		addBias, relu, sigmoid, tanh, bsoftmax bias
		softmax                                func(dst, x []float32, rows, cols int)
		ce                                     func(p, g, z []float32, l []int32, rows, cols int, invB float64, stats []float64)
		argmax                                 func(dst []int32, x []float32, rows, cols int)
	}
	var sets []rowSet
	for _, l := range Available() {
		switch l {
		case "avx2":
			sets = append(sets, rowSet{l, asm.AddBiasAVX2, asm.BiasReluAVX2, asm.BiasSigmoidAVX2, asm.BiasTanhAVX2, asm.BiasSoftmaxAVX2, asm.SoftmaxAVX2, asm.SoftmaxCrossEntropyAVX2, asm.ArgmaxAVX2})
		case "avx512":
			sets = append(sets, rowSet{l, asm.AddBiasAVX512, asm.BiasReluAVX512, asm.BiasSigmoidAVX512, asm.BiasTanhAVX512, asm.BiasSoftmaxAVX512, asm.SoftmaxAVX512, asm.SoftmaxCrossEntropyAVX512, asm.ArgmaxAVX512})
		}
	}
	r := rand.New(rand.NewPCG(26, 26))
	for _, set := range sets {
		for cols := 1; cols <= 3*16+1; cols++ {
			for _, rows := range []int{1, 2, 5, 64} {
				n := rows * cols
				what := fmt.Sprintf("%s %s", set.level, shapeName(rows, cols))
				x := elemCopy(softmaxRows(r, rows, cols), 1)
				bv := randInput(r, cols, 2, true)
				for k, f := range []struct{ asm, ref bias }{
					{set.addBias, refAddBias}, {set.relu, refBiasRelu}, {set.sigmoid, refBiasSigmoid}, {set.tanh, refBiasTanh}, {set.bsoftmax, refBiasSoftmax},
				} {
					buf, got := elemBuf(n, 1)
					copy(got, x)
					f.asm(got, bv, rows, cols)
					checkElemGuards(t, what, buf, n, 1)
					want := clone(x)
					f.ref(want, bv, rows, cols)
					if k == 4 {
						checkNearGeneric(t, what+" BiasSoftmax", got, want)
					} else if i := firstDiffNaN(got, want); i >= 0 {
						t.Fatalf("%s bias kernel %d: [%d] = %v, generic %v", what, k, i, got[i], want[i])
					}
				}
				buf, got := elemBuf(n, 2)
				set.softmax(got, x, rows, cols)
				checkElemGuards(t, what+" Softmax", buf, n, 2)
				want := make([]float32, n)
				refSoftmax(want, x, rows, cols)
				checkNearGeneric(t, what+" Softmax", got, want)
				in := clone(x)
				set.softmax(in, in, rows, cols)
				if i := firstDiffNaN(in, got); i >= 0 {
					t.Fatalf("%s Softmax in place: [%d] = %v, out of place %v", what, i, in[i], got[i])
				}

				labels := make([]int32, rows)
				for i := range labels {
					labels[i] = int32(r.IntN(cols))
				}
				pbuf, p := elemBuf(n, 0)
				gbuf, g := elemBuf(n, 3)
				var stats [3 * ceChunk]float64
				set.ce(p, g, x, labels, rows, cols, 1/float64(rows), stats[:])
				checkElemGuards(t, what+" probs", pbuf, n, 0)
				checkElemGuards(t, what+" grad", gbuf, n, 3)
				wp, wg := make([]float32, n), make([]float32, n)
				refSoftmaxCrossEntropy(wp, wg, x, labels, rows, cols)
				for i := 0; i < rows; i++ {
					wl := refSoftmaxCrossEntropy(nil, nil, x[i*cols:(i+1)*cols], labels[i:i+1], 1, cols)
					if l := stats[i]; !(math.Abs(l-wl) <= 1e-13*math.Abs(wl)) && l != wl && !(math.IsNaN(l) && math.IsNaN(wl)) {
						t.Fatalf("%s row %d: loss %v, generic %v", what, i, l, wl)
					}
				}
				checkNearGeneric(t, what+" probs", p, wp)
				checkNearGeneric(t, what+" grad", g, wg)

				idx := make([]int32, rows)
				set.argmax(idx, x, rows, cols)
				wantIdx := make([]int32, rows)
				refArgmax(wantIdx, x, rows, cols)
				for i := range idx {
					if idx[i] != wantIdx[i] {
						t.Fatalf("%s Argmax row %d: %d, generic %d", what, i, idx[i], wantIdx[i])
					}
				}
			}
		}
	}
}
