package kernels

import (
	"syscall"
	"testing"
	"unsafe"
)

// pageEndArrays maps k arrays of room float32s, each followed by a page
// with no access rights: a kernel that reads or writes even one element
// past a slice that ends at its array's end dies with SIGSEGV. Partial
// vectors are where that could happen: AVX-512 masked loads must suppress
// the fault on masked-off lanes, and the AVX2 tails must not load whole
// vectors at all.
func pageEndArrays(t *testing.T, k, room int) (arrays [][]float32, release func()) {
	t.Helper()
	page := syscall.Getpagesize()
	size := (room*4 + page - 1) / page * page
	var maps [][]byte
	release = func() {
		for _, m := range maps {
			if err := syscall.Munmap(m); err != nil {
				t.Error(err)
			}
		}
	}
	for range k {
		m, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			release()
			t.Skipf("mmap: %v", err)
		}
		maps = append(maps, m)
		if err := syscall.Mprotect(m[size:], syscall.PROT_NONE); err != nil {
			release()
			t.Skipf("mprotect: %v", err)
		}
		all := unsafe.Slice((*float32)(unsafe.Pointer(&m[0])), size/4)
		arrays = append(arrays, all[size/4-room:])
	}
	return arrays, release
}

// TestOptimPageEnd runs every kernel of this file's family on slices that
// end exactly where an inaccessible page starts, for every length up to
// four AVX-512 vectors and more, on every level.
func TestOptimPageEnd(t *testing.T) {
	const room = 4*16 + 33
	arrays, release := pageEndArrays(t, 5, room)
	defer release()
	h := optHyper{0.001, 0.9, 1e-7, 0.1, 0.9}
	forEachLevel(t, func(t *testing.T) {
		for n := 0; n <= room; n++ {
			v := make([][]float32, 5)
			for k := range v {
				v[k] = arrays[k][room-n:]
				for i := range v[k] {
					v[k][i] = float32(i%7) * 0.25
				}
			}
			for _, vr := range optVariants {
				w := append(v[:len(vr.pos)-1:len(vr.pos)-1], v[4])
				vr.api(w, h)
			}
			x := v[0]
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			SumSquares(x)
			Scale(x, 0.5)
			Clamp(x, -1, 1)
			if !AllFinite(x) {
				t.Fatalf("n=%d: AllFinite false", n)
			}
			// ColSum with both its output and its matrix at a page end:
			// cols = n, and one to three rows of x.
			for rows := 1; rows <= 3 && rows*n <= room; rows++ {
				xs := arrays[1][room-rows*n:]
				want := make([]float32, n)
				refColSum(want, xs, rows, n)
				ColSum(v[0], xs, rows, n)
				if i := firstDiff(v[0], want); i >= 0 {
					t.Fatalf("ColSum %s: [%d] = %v, want %v", shapeName(rows, n), i, v[0][i], want[i])
				}
			}
		}
	})
}
