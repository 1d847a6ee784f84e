//go:build gc && !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// The NEON int8 kernels against the reference on the shapes around their
// blocks (4 rows and then 1 with SDOT, 1 when widening; 16 columns in
// quads of 4; 16 codes, then groups of 4), every variant the CPU can run
// called directly, so that a machine with SDOT also tests the widening
// variant it does not install.

// int8DenseVariants returns the product variants this CPU can run.
func int8DenseVariants() map[string]func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32) {
	v := map[string]func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32){
		"wide": int8DenseWide,
	}
	if cpu.ARM64.HasASIMDDP {
		v["sdot"] = int8DenseSDOT
	}
	return v
}

// TestInt8NEONVariant checks that the neon level installed the NEON
// quantization and the product variant the CPU flags call for, and, when
// SIMDMLP_TEST_INT8 is sdot or wide (the Makefile's emulated runs set
// it), that this is the variant the run was meant to test: under
// qemu-aarch64 -cpu max it is sdot, with GODEBUG=cpu.asimddp=off or on a
// Cortex-A53 it is wide.
func TestInt8NEONVariant(t *testing.T) {
	defer neonLevel(t)()
	if sameFunc(active.quantizeRowsU8, generic.quantizeRowsU8) || !sameFunc(active.quantizeRowsU8, quantizeRowsU8NEON) {
		t.Error("neon quantizeRowsU8 is not the NEON kernel")
	}
	got := "wide"
	switch {
	case sameFunc(active.int8Dense, int8DenseSDOT):
		got = "sdot"
	case !sameFunc(active.int8Dense, int8DenseWide):
		t.Fatal("neon int8Dense is neither NEON variant")
	}
	want := "wide"
	if cpu.ARM64.HasASIMDDP {
		want = "sdot"
	}
	if got != want {
		t.Errorf("int8Dense variant %s with HasASIMDDP = %v, want %s", got, cpu.ARM64.HasASIMDDP, want)
	}
	if req := os.Getenv("SIMDMLP_TEST_INT8"); req != "" && req != got {
		t.Errorf("SIMDMLP_TEST_INT8=%s, but the neon level runs the %s variant (HasASIMDDP = %v)", req, got, cpu.ARM64.HasASIMDDP)
	}
	t.Logf("int8Dense variant: %s", got)
}

func TestInt8DenseNEONShapes(t *testing.T) {
	ms := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17}
	units := []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 31, 32, 33, 47, 48, 49}
	ins := []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 19, 20, 21, 31, 32, 33, 63, 64, 65}
	for name, k := range int8DenseVariants() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 12))
			for _, m := range ms {
				for _, n := range units {
					for _, in := range ins {
						if r.IntN(3) != 0 && !(m == 5 && in == 17) {
							continue // a third of the grid, and one full plane
						}
						int8DenseCheck(t, r, k, m, in, n)
					}
				}
			}
		})
	}
}

// int8DenseCheck runs one shape through kernel k and the reference: an
// odd lda (codes from random offsets of a buffer, so unaligned, with
// random junk past w.In() codes in each row, which meets zero weights),
// ldy with gaps between rows, guard cells around y, and a that must come
// back unchanged.
func int8DenseCheck(t *testing.T, r *rand.Rand, k func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32), m, in, n int) {
	t.Helper()
	kp := roundUp(in, 4)
	lda := kp + r.IntN(6)
	ldy := n + r.IntN(4)
	off := r.IntN(4)
	abuf := make([]uint8, off+(m-1)*lda+kp+8)
	for i := range abuf {
		abuf[i] = uint8(r.IntN(256))
	}
	a := abuf[off : off+(m-1)*lda+kp]
	for i := 0; i < 3 && i < len(a); i++ {
		a[r.IntN(len(a))] = 255 // the extreme codes, often
		a[r.IntN(len(a))] = 0
	}
	acopy := slices.Clone(abuf)
	q := make([]int8, in*n)
	for i := range q {
		q[i] = int8(r.IntN(255) - 127)
		if r.IntN(8) == 0 {
			q[i] = int8(127 - 254*r.IntN(2))
		}
	}
	ws := make([]float32, n)
	for j := range ws {
		ws[j] = float32(r.ExpFloat64() * 1e-3)
	}
	w, err := NewInt8Weights(q, ws, in, n)
	if err != nil {
		t.Fatal(err)
	}
	scale := make([]float32, m)
	zero := make([]int32, m)
	for i := range m {
		scale[i] = float32(r.ExpFloat64() * 1e-2)
		zero[i] = int32(r.IntN(256))
	}
	bias := make([]float32, n)
	for j := range bias {
		bias[j] = float32(r.NormFloat64())
	}
	size := (m-1)*ldy + n
	buf, got := guarded(size)
	for i := range got {
		got[i] = float32(-7 - i) // the cells between rows must keep these
	}
	want := slices.Clone(got)
	k(m, a, lda, scale, zero, w, bias, got, ldy, nil, nil)
	refInt8Dense(m, a, lda, scale, zero, w, bias, want, ldy)
	what := fmt.Sprintf("m %d in %d units %d lda %d ldy %d off %d", m, in, n, lda, ldy, off)
	checkGuards(t, what, buf)
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("%s: y[%d] (row %d, column %d) = %v, reference %v", what, i, i/ldy, i%ldy, got[i], want[i])
	}
	if !slices.Equal(abuf, acopy) {
		t.Fatalf("%s: the codes changed", what)
	}
}

func TestQuantizeRowsU8NEONShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var ks []int
	for k := 0; k <= 40; k++ {
		ks = append(ks, k)
	}
	ks = append(ks, 47, 48, 49, 63, 64, 65, 100, 784)
	for _, k := range ks {
		for _, m := range []int{1, 2, 3, 5} {
			ldx := k + r.IntN(4)
			ldq := k + r.IntN(10)
			off := r.IntN(4)
			xbuf := make([]float32, off+(m-1)*ldx+k+4)
			for i := range xbuf {
				xbuf[i] = float32(math.NaN()) // outside the rows: never read
			}
			x := xbuf[off : off+(m-1)*ldx+k]
			for i := range m {
				quantizeRow(r, x[i*ldx:i*ldx+k])
			}
			xcopy := slices.Clone(xbuf)
			qoff := r.IntN(4)
			gq := make([]uint8, qoff+m*ldq+8)
			for i := range gq {
				gq[i] = 0xA5
			}
			wq := slices.Clone(gq)
			gs, ws := make([]float32, m+1), make([]float32, m+1)
			gz, wz := make([]int32, m+1), make([]int32, m+1)
			gs[m], ws[m], gz[m], wz[m] = 7, 7, 7, 7
			quantizeRowsU8NEON(gq[qoff:qoff+m*ldq], ldq, gs[:m], gz[:m], x, ldx, m, k)
			refQuantizeRowsU8(wq[qoff:qoff+m*ldq], ldq, ws[:m], wz[:m], x, ldx, m, k)
			what := fmt.Sprintf("k %d m %d ldx %d ldq %d off %d/%d", k, m, ldx, ldq, off, qoff)
			if !slices.Equal(gq, wq) {
				t.Fatalf("%s: codes (guards included)\n got %v\nwant %v", what, gq, wq)
			}
			if firstDiff(gs, ws) >= 0 || !slices.Equal(gz, wz) {
				t.Fatalf("%s: scales %v zero points %v, reference %v %v", what, gs, gz, ws, wz)
			}
			for i := range xbuf {
				if math.Float32bits(xbuf[i]) != math.Float32bits(xcopy[i]) {
					t.Fatalf("%s: x[%d] changed", what, i-off)
				}
			}
		}
	}
}

// quantizeRow fills row with one of the kinds of rows that reach the
// rounding and clamping corners: ties (x·inv halfway between codes),
// rows of zeros and of −0, one-signed rows, rows whose range is so small
// that the scale is subnormal or its inverse overflows to +Inf (codes
// from ±Inf and NaN products, which the conversions saturate), and wide
// ranges.
func quantizeRow(r *rand.Rand, row []float32) {
	kind := r.IntN(9)
	for i := range row {
		switch kind {
		case 0:
			row[i] = float32(r.IntN(511)-255) / 2 // many ties once scaled
		case 1:
			row[i] = 0
		case 2:
			row[i] = float32(math.Copysign(0, -1))
		case 3:
			row[i] = float32(r.ExpFloat64())
		case 4:
			row[i] = -float32(r.ExpFloat64())
		case 5:
			row[i] = float32(r.IntN(3)) * 1e-38 // inverse of the scale overflows
		case 6:
			row[i] = -float32(r.IntN(3)) * 1e-44 // subnormal range, scale 0
		case 7:
			row[i] = float32(r.NormFloat64() * 1e30)
		default:
			row[i] = float32(r.NormFloat64())
		}
	}
	if len(row) > 0 && r.IntN(3) == 0 {
		row[r.IntN(len(row))] = 255 // a row whose scale is exactly 1
	}
}
