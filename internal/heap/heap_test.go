package heap

import "testing"

var sink []byte

func TestAllocated(t *testing.T) {
	if n := Allocated(func() { sink = make([]byte, 1<<20) }); n < 1<<20 || n > 2<<20 {
		t.Errorf("a 1 MiB slice counted as %d bytes", n)
	}
	if n := Allocated(func() {}); n > 4<<10 {
		t.Errorf("nothing counted as %d bytes", n)
	}
}
