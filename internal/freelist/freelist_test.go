package freelist

import (
	"sync"
	"testing"
)

func TestReuse(t *testing.T) {
	var l List[[]float32]
	a := l.Get()
	if a == nil || *a != nil {
		t.Fatalf("first Get = %v, want a new zero value", a)
	}
	*a = make([]float32, 8)
	l.Put(a)
	if b := l.Get(); b != a || len(*b) != 8 {
		t.Fatalf("Get after Put returned another object (%p, want %p)", b, a)
	}
	if c := l.Get(); c == a {
		t.Fatal("an object handed out twice")
	}
}

// TestConcurrent hands objects between goroutines; under the race
// detector it checks the locking, and it checks that no object is held
// by two goroutines at once.
func TestConcurrent(t *testing.T) {
	var l List[int]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				v := l.Get()
				*v = g
				if *v != g {
					t.Errorf("object shared between goroutines")
					return
				}
				l.Put(v)
			}
		}()
	}
	wg.Wait()
	if n := len(l.free); n > 8 {
		t.Errorf("list holds %d objects, more than the 8 ever in use at once", n)
	}
}

func TestAllocationFree(t *testing.T) {
	var l List[[64]byte]
	l.Put(l.Get())
	if a := testing.AllocsPerRun(100, func() { l.Put(l.Get()) }); a != 0 {
		t.Errorf("Get/Put of a warm list: %v allocations", a)
	}
}

// BenchmarkGetPut times the uncontended round trip every kernel call and
// Predictor call makes.
func BenchmarkGetPut(b *testing.B) {
	var l List[[64]byte]
	l.Put(l.Get())
	for b.Loop() {
		l.Put(l.Get())
	}
}

// TestSlotAndList: objects put back while the slot is taken go to the
// list, and every one of them comes back once.
func TestSlotAndList(t *testing.T) {
	var l List[int]
	a, b, c := l.Get(), l.Get(), l.Get()
	l.Put(a)
	l.Put(b)
	l.Put(c)
	if n := l.Len(); n != 3 {
		t.Fatalf("Len = %d after three Puts, want 3", n)
	}
	seen := map[*int]bool{}
	for range 3 {
		seen[l.Get()] = true
	}
	if !seen[a] || !seen[b] || !seen[c] {
		t.Fatalf("three Gets returned %d of the three objects put back", len(seen))
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("Len = %d after taking all back, want 0", n)
	}
}
