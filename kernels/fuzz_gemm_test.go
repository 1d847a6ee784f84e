package kernels

import (
	"math/rand/v2"
	"testing"
)

// gemmFuzzScalars are the alpha/beta pairs FuzzSgemm picks from: the
// values with their own code paths (0, 1) and ordinary ones.
var gemmFuzzScalars = [][2]float32{{1, 0}, {1, 1}, {0, 1}, {0, 0}, {-0.5, 0}, {2, -1}, {1, 0.25}, {-1, 1}}

// FuzzSgemm runs Sgemm on fuzzed shapes, transpositions, scalars, leading
// dimensions and operand values on every level, and checks each result
// against the float64 triple loop with the bound of TestSgemmShapes, and
// that nothing outside C changed and A and B were not written. Shapes
// reach past every level's register tile and K block (up to 300). CI runs
// it for a counted number of inputs (Makefile, target fuzz).
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(0), uint16(32), uint16(100), uint16(300), uint8(0), uint64(1))
	f.Add(uint8(1), uint16(300), uint16(100), uint16(32), uint8(1), uint64(2))
	f.Add(uint8(2), uint16(32), uint16(10), uint16(100), uint8(2), uint64(3))
	f.Add(uint8(7), uint16(13), uint16(33), uint16(17), uint8(3), uint64(4))
	f.Add(uint8(4), uint16(1), uint16(1), uint16(0), uint8(4), uint64(5))
	f.Fuzz(func(t *testing.T, flags uint8, m, n, k uint16, sc uint8, seed uint64) {
		m, n, k = m%301, n%301, k%301
		s := gemmFuzzScalars[int(sc)%len(gemmFuzzScalars)]
		transA, transB, pad := flags&1 != 0, flags&2 != 0, flags&4 != 0
		forEachLevel(t, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, uint64(flags)))
			g := newGemmCase(r, transA, transB, int(m), int(n), int(k), s[0], s[1], pad)
			a0, b0 := clone(g.a), clone(g.b)
			g.run()
			g.check(t)
			gemmSameBits(t, g, "A", g.a, a0)
			gemmSameBits(t, g, "B", g.b, b0)
		})
	})
}

// FuzzDenseForward runs the fused Dense forward pass on fuzzed shapes and
// activations on every level: it must equal Sgemm followed by
// BiasActivation bit for bit, leave everything outside y alone, and (for
// linear and ReLU, whose results the float64 loop gives directly) stay
// within the GEMM bound of the exact result.
func FuzzDenseForward(f *testing.F) {
	f.Add(uint8(1), uint16(32), uint16(100), uint16(784), uint64(1))
	f.Add(uint8(4), uint16(32), uint16(10), uint16(100), uint64(2))
	f.Add(uint8(0), uint16(1), uint16(100), uint16(784), uint64(3))
	f.Add(uint8(2), uint16(33), uint16(17), uint16(5), uint64(4))
	f.Fuzz(func(t *testing.T, a uint8, m, n, k uint16, seed uint64) {
		act := allActivations[int(a)%len(allActivations)]
		m, n, k = m%65, n%257, k%801
		forEachLevel(t, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, uint64(a)))
			d := newDenseCase(r, act, int(m), int(n), int(k), seed%2 == 1)
			if n == 0 {
				// Nothing to compute; the call must still leave y's
				// surroundings alone.
				d.run()
				d.checkOutside(t)
				return
			}
			want := d.twoPass()
			d.run()
			d.checkOutside(t)
			if i := firstDiff(d.ybuf, want); i >= 0 {
				t.Fatalf("%v: ybuf[%d] = %v, Sgemm then BiasActivation gives %v", d, i, d.ybuf[i], want[i])
			}
			if act == ActLinear || act == ActReLU {
				d.checkRef(t)
			}
		})
	})
}
