package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// Fuzz targets: each runs the input through every available level and
// checks it against the float64 reference (or the op-by-op transcription)
// with the documented bounds. Run one with, for example,
//
//	go test -run '^$' -fuzz FuzzSoftmax -fuzztime 10s ./kernels

// fuzzFloats reads little-endian float32 bit patterns, so every float32,
// NaN payloads included, is reachable.
func fuzzFloats(data []byte) []float32 {
	x := make([]float32, len(data)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x
}

func fuzzBytes(x ...float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func addSoftmaxSeeds(f *testing.F) {
	inf := float32(math.Inf(1))
	f.Add(fuzzBytes(1, 2, 3, 4), uint8(2))
	f.Add(fuzzBytes(1e30, 0), uint8(2))
	f.Add(fuzzBytes(-inf, 0, 88, -88), uint8(2))
	f.Add(fuzzBytes(float32(math.NaN()), 1, 2), uint8(3))
	f.Add(fuzzBytes(-87.33, 0, -87.34, 0, 0.1, 100), uint8(3))
	f.Add(fuzzBytes(math.MaxFloat32, -math.MaxFloat32, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3), uint8(17))
}

func FuzzSoftmax(f *testing.F) {
	addSoftmaxSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		x := fuzzFloats(data)
		cols := int(c)
		if cols == 0 || len(x) < cols {
			return
		}
		rows := len(x) / cols
		x = x[:rows*cols]
		forEachLevel(t, func(t *testing.T) {
			buf, dst := guarded(len(x))
			Softmax(dst, x, rows, cols)
			checkGuards(t, "Softmax", buf)
			checkSoftmax(t, "Softmax", x, dst, rows, cols)
		})
	})
}

func FuzzSoftmaxCrossEntropy(f *testing.F) {
	addSoftmaxSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		x := fuzzFloats(data)
		cols := int(c)
		if cols == 0 || len(x) < cols {
			return
		}
		rows := len(x) / cols
		x = x[:rows*cols]
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32((int(data[i%len(data)]) + i) % cols)
		}
		forEachLevel(t, func(t *testing.T) {
			pbuf, probs := guarded(len(x))
			gbuf, grad := guarded(len(x))
			loss := SoftmaxCrossEntropy(probs, grad, x, labels, rows, cols)
			checkGuards(t, "probs", pbuf)
			checkGuards(t, "grad", gbuf)
			var want float64
			for i := 0; i < rows; i++ {
				row := x[i*cols : (i+1)*cols]
				wl, wp, wg := ceRef64(row, int(labels[i]))
				want += wl
				for j := range row {
					k := i*cols + j
					if !withinUlp(probs[k], wp[j], softmaxUlp) {
						t.Fatalf("row %d %v: probs[%d] = %v, want %v", i, row, j, probs[k], wp[j])
					}
					if !withinUlp(grad[k], wg[j]/float64(rows), softmaxUlp) {
						t.Fatalf("row %d %v label %d: grad[%d] = %v, want %v", i, row, labels[i], j, grad[k], wg[j]/float64(rows))
					}
				}
			}
			if !ceLossOK(loss, want) {
				t.Fatalf("loss %v, want %v", loss, want)
			}
		})
	})
}

// FuzzActivations checks the elementwise activations on single inputs.
func FuzzActivations(f *testing.F) {
	for _, v := range specials {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, x float32) {
		forEachLevel(t, func(t *testing.T) {
			in := []float32{x}
			for _, k := range unaryKernels {
				out := []float32{0}
				k.fn(out, in)
				checkUnary(t, k, in, out)
			}
		})
	})
}

// FuzzOptimizers checks one element of every optimizer against its
// transcription, bit for bit, for arbitrary state and hyperparameters.
func FuzzOptimizers(f *testing.F) {
	f.Add(float32(0.5), float32(0.1), float32(0.01), float32(0.2), float32(1e-3), float32(0.9), float32(1e-7))
	f.Add(float32(-3), float32(0), float32(0), float32(0), float32(0), float32(0), float32(0))
	f.Add(float32(1e30), float32(-1e-30), float32(4), float32(1e-40), float32(1e5), float32(2), float32(1))
	f.Fuzz(func(t *testing.T, theta, g, s1, s2, lr, mu, eps float32) {
		forEachLevel(t, func(t *testing.T) {
			for _, nest := range []bool{false, true} {
				p := SGDParams{lr, mu, nest}
				th, m := []float32{theta}, []float32{s1}
				SGDStep(th, m, []float32{g}, p)
				wt, wm := sgdRef(theta, s1, g, p)
				if !sameBitsOrNaN(th[0], wt) || !sameBitsOrNaN(m[0], wm) {
					t.Fatalf("SGD %+v θ=%v m=%v g=%v: got %v %v, want %v %v", p, theta, s1, g, th[0], m[0], wt, wm)
				}
			}
			{
				p := AdagradParams{lr, eps}
				th, a := []float32{theta}, []float32{s1}
				AdagradStep(th, a, []float32{g}, p)
				wt, wa := adagradRef(theta, s1, g, p)
				if !sameBitsOrNaN(th[0], wt) || !sameBitsOrNaN(a[0], wa) {
					t.Fatalf("Adagrad %+v: got %v %v, want %v %v", p, th[0], a[0], wt, wa)
				}
			}
			for _, centered := range []bool{false, true} {
				p := RMSpropParams{lr, mu, 1 - mu, mu, eps, centered}
				th, v, mom, mg := []float32{theta}, []float32{s1}, []float32{s2}, []float32{s2}
				RMSpropStep(th, v, mom, mg, []float32{g}, p)
				wt, wv, wmom, wmg := rmspropRef(theta, s1, s2, s2, g, p)
				if !sameBitsOrNaN(th[0], wt) || !sameBitsOrNaN(v[0], wv) || !sameBitsOrNaN(mom[0], wmom) || !sameBitsOrNaN(mg[0], wmg) {
					t.Fatalf("RMSprop %+v: got %v %v %v %v, want %v %v %v %v", p, th[0], v[0], mom[0], mg[0], wt, wv, wmom, wmg)
				}
			}
			for _, ams := range []bool{false, true} {
				p := AdamParams{lr, mu, 1 - mu, eps, ams}
				th, m, v, vh := []float32{theta}, []float32{s1}, []float32{s2}, []float32{s2 * 2}
				AdamStep(th, m, v, vh, []float32{g}, p)
				wt, wm, wv, wvh := adamRef(theta, s1, s2, s2*2, g, p)
				if !sameBitsOrNaN(th[0], wt) || !sameBitsOrNaN(m[0], wm) || !sameBitsOrNaN(v[0], wv) || !sameBitsOrNaN(vh[0], wvh) {
					t.Fatalf("Adam %+v: got %v %v %v %v, want %v %v %v %v", p, th[0], m[0], v[0], vh[0], wt, wm, wv, wvh)
				}
			}
		})
	})
}

// sameBitsOrNaN compares exactly, except that any two NaNs match: NaN
// payloads are not specified across levels.
func sameBitsOrNaN(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}
