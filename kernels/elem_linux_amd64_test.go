//go:build gc && !purego

package kernels

import (
	"syscall"
	"testing"
	"unsafe"
)

// elemPageEnd maps k arrays of room float32s, each ending exactly where a
// page with no access rights begins, so that any load or store past the
// end of a slice that ends there faults.
func elemPageEnd(t *testing.T, k, room int) [][]float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (room*4 + page - 1) / page * page
	var out [][]float32
	for range k {
		m, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Skipf("mmap: %v", err)
		}
		t.Cleanup(func() { _ = syscall.Munmap(m) })
		if err := syscall.Mprotect(m[size:], syscall.PROT_NONE); err != nil {
			t.Skipf("mprotect: %v", err)
		}
		all := unsafe.Slice((*float32)(unsafe.Pointer(&m[0])), size/4)
		out = append(out, all[size/4-room:])
	}
	return out
}

// TestElemPageEnd runs every elementwise and row kernel on inputs and
// outputs that end at an inaccessible page, for every length up to three
// AVX-512 vectors and one, and row shapes whose last row ends there: the
// masked tails (K masks, VMASKMOVPS) must neither read nor write past a
// slice.
func TestElemPageEnd(t *testing.T) {
	const room = 3*16 + 1
	arr := elemPageEnd(t, 4, room)
	at := func(k, n int) []float32 {
		s := arr[k][room-n:]
		for i := range s {
			s[i] = float32(i%7)*0.5 - 1
		}
		return s
	}
	forEachLevel(t, func(t *testing.T) {
		for n := 0; n <= room; n++ {
			Relu(at(0, n), at(1, n))
			Sigmoid(at(0, n), at(1, n))
			Tanh(at(0, n), at(1, n))
			ReluGrad(at(0, n), at(1, n), at(2, n))
			SigmoidGrad(at(0, n), at(1, n), at(2, n))
			TanhGrad(at(0, n), at(1, n), at(2, n))
			for rows := 1; rows <= 3; rows++ {
				if n == 0 || rows*n > room {
					continue
				}
				m := rows * n
				for _, act := range Activations() {
					BiasActivation(act, at(0, m), at(1, n), rows, n)
				}
				Softmax(at(0, m), at(1, m), rows, n)
				SoftmaxGrad(at(0, m), at(1, m), at(2, m), rows, n)
				labels := make([]int32, rows)
				SoftmaxCrossEntropy(at(0, m), at(2, m), at(1, m), labels, rows, n)
				SoftmaxCrossEntropy(nil, at(2, m), at(1, m), labels, rows, n)
				Argmax(labels, at(1, m), rows, n)
				CountCorrect(at(1, m), labels, rows, n)
			}
		}
	})
}
