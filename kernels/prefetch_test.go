package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPrefetchRows runs PrefetchRows on every level over row lengths that
// are and are not whole cache lines, rows that start anywhere in a line
// (src offset by 0 to 15 floats), the first and the last row of src, a
// partial row after the last that no index may reach, repeated indices
// and no indices. A prefetch has no result to compare: the test checks
// that nothing changed, src and its guard cells bit for bit and idx, so
// a kernel that stores where it should only prefetch fails it.
func TestPrefetchRows(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	forEachLevel(t, func(t *testing.T) {
		for _, cols := range []int{1, 3, 15, 16, 17, 31, 784, 1000} {
			for _, off := range []int{0, 1, 7, 15} {
				const rows = 40
				// off guard cells, the rows, a partial row of cols-1
				// cells (PrefetchRows must not take it for a row), then
				// 16 guard cells.
				buf := make([]float32, off+rows*cols+cols-1+16)
				for i := range buf {
					buf[i] = math.Float32frombits(0x7fc0_0000 | uint32(i)) // NaNs, each its own
				}
				src := buf[off : off+rows*cols+cols-1]
				for i := range rows * cols {
					src[i] = r.Float32()
				}
				want := slices.Clone(buf)
				for _, idx := range [][]int{
					nil, {}, {0}, {rows - 1}, {rows - 1, 0, rows - 1},
					r.Perm(rows), r.Perm(rows)[:32],
				} {
					keep := slices.Clone(idx)
					PrefetchRows(src, cols, idx)
					if !slices.Equal(idx, keep) {
						t.Fatalf("cols=%d off=%d: idx changed to %v, was %v", cols, off, idx, keep)
					}
					for i := range buf {
						if math.Float32bits(buf[i]) != math.Float32bits(want[i]) {
							t.Fatalf("cols=%d off=%d idx=%v: buffer cell %d (src[%d]) changed: %#x, was %#x",
								cols, off, idx, i, i-off, math.Float32bits(buf[i]), math.Float32bits(want[i]))
						}
					}
				}
			}
		}
	})
}

// TestPrefetchRowsPanics checks that every bad argument panics, on every
// level, with a message that names it, before the kernel is called.
func TestPrefetchRowsPanics(t *testing.T) {
	src := make([]float32, 10*4+3) // ten rows of four, three cells over
	forEachLevel(t, func(t *testing.T) {
		for _, c := range []struct {
			cols int
			idx  []int
			want string
		}{
			{0, []int{0}, "cols = 0, need ≥ 1"},
			{-4, nil, "cols = -4, need ≥ 1"},
			{4, []int{0, 10, 1}, "idx[1] = 10, need 0 ≤ idx < 10 (rows of src)"},
			{4, []int{2, 3, -1}, "idx[2] = -1"},
			{44, []int{0}, "idx[0] = 0, need 0 ≤ idx < 0"},
			{4, []int{9, 9, 9, 9, math.MaxInt}, "idx[4] = 9223372036854775807"},
		} {
			msg := mustPanic(func() { PrefetchRows(src, c.cols, c.idx) })
			if !strings.HasPrefix(msg, "kernels: PrefetchRows: ") || !strings.Contains(msg, c.want) {
				t.Errorf("cols=%d idx=%v: panic %q, want one naming %q", c.cols, c.idx, msg, c.want)
			}
		}
		// Rows of a src shorter than one row: none, so no index is valid,
		// but no index is no error.
		PrefetchRows(src[:3], 4, nil)
	})
}

func TestPrefetchRowsAllocs(t *testing.T) {
	src := make([]float32, 64*784)
	idx := rand.New(rand.NewPCG(65, 66)).Perm(64)[:32]
	forEachLevel(t, func(t *testing.T) {
		if n := testing.AllocsPerRun(10, func() { PrefetchRows(src, 784, idx) }); n != 0 {
			t.Errorf("PrefetchRows allocates %v times per call", n)
		}
	})
}
