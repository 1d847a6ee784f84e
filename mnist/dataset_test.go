package mnist

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestScaled(t *testing.T) {
	d := &Dataset{Images: make([]uint8, 256*3), N: 3, Rows: 16, Cols: 16}
	for i := range d.Images {
		d.Images[i] = uint8(i * 5)
	}
	got := d.Scaled()
	if len(got) != len(d.Images) {
		t.Fatalf("len %d, want %d", len(got), len(d.Images))
	}
	for i, x := range d.Images {
		// The tutorial computes x/255.0 in float64; Keras then casts to
		// float32. The Go result must equal that bit for bit.
		if want := float32(float64(x) / 255.0); got[i] != want {
			t.Fatalf("pixel %d (%d): %v, want %v", i, x, got[i], want)
		}
		if want := float32(x) / 255; got[i] != want {
			t.Fatalf("pixel %d (%d): %v, want float32 quotient %v", i, x, got[i], want)
		}
	}
	if a := testing.AllocsPerRun(5, func() { d.Scaled() }); a != 1 {
		t.Errorf("Scaled makes %v allocations, want 1", a)
	}
}

func TestFashionClasses(t *testing.T) {
	if FashionClasses[0] != "T-shirt/top" || FashionClasses[9] != "Ankle boot" || FashionClasses[5] != "Sandal" {
		t.Errorf("FashionClasses = %q", FashionClasses)
	}
}

func TestNewDatasetValidates(t *testing.T) {
	img := make([]uint8, 2*2*2)
	if _, err := newDataset("f", []int{2, 2, 2}, img, []int{2}, []uint8{3, 10}); !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "label 10 at index 1") {
		t.Errorf("label 10: %v", err)
	}
	if _, err := newDataset("f", []int{2, 2, 2}, img, []int{3}, []uint8{1, 2, 3}); !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "2 images") {
		t.Errorf("count mismatch: %v", err)
	}
	if _, err := newDataset("f", []int{2, 4}, img, []int{2}, []uint8{1, 2}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("rank 2 images: %v", err)
	}
	d, err := newDataset("f", []int{2, 2, 2}, img, []int{2}, []uint8{0, 9})
	if err != nil || d.N != 2 || d.Rows != 2 || d.Cols != 2 || !slices.Equal(d.Labels, []int32{0, 9}) {
		t.Errorf("valid: %+v %v", d, err)
	}
}

func TestGatherRows(t *testing.T) {
	src := []float32{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}
	dst := make([]float32, 9)
	if err := GatherRows(dst, src, 3, []int{3, 0, 3}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst, []float32{30, 31, 32, 0, 1, 2, 30, 31, 32}) {
		t.Errorf("dst = %v", dst)
	}
	// A longer dst is fine; the tail is untouched.
	long := []int32{-1, -1, -1}
	if err := GatherRows(long, []int32{5, 6, 7}, 1, []int{2, 0}); err != nil || !slices.Equal(long, []int32{7, 5, -1}) {
		t.Errorf("long dst: %v %v", long, err)
	}
	sentinel := []float32{-1, -1, -1, -1, -1, -1}
	for _, tc := range []struct {
		dst   []float32
		width int
		idx   []int
		want  string
	}{
		{sentinel, 3, []int{0, 4}, "idx[1] = 4 out of range [0, 4)"},
		{sentinel, 3, []int{-1}, "idx[0] = -1"},
		{sentinel, 3, []int{0, 1, 2}, "len(dst) = 6, need 3 rows of 3"},
		{sentinel, 0, []int{0}, "width 0"},
		{sentinel, -3, []int{0}, "width -3"},
		{sentinel, 5, []int{2}, "out of range [0, 2)"}, // 12/5 = 2 whole rows
	} {
		err := GatherRows(tc.dst, src, tc.width, tc.idx)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("width %d idx %v: %v, want %q", tc.width, tc.idx, err, tc.want)
		}
	}
	if !slices.Equal(sentinel, []float32{-1, -1, -1, -1, -1, -1}) {
		t.Errorf("a failed GatherRows wrote to dst: %v", sentinel)
	}
	idx := []int{1, 2}
	if a := testing.AllocsPerRun(100, func() { _ = GatherRows(dst, src, 3, idx) }); a != 0 {
		t.Errorf("GatherRows allocates %v times", a)
	}
}

func BenchmarkScaled(b *testing.B) {
	d := &Dataset{Images: make([]uint8, 60000*784), N: 60000, Rows: 28, Cols: 28}
	for i := range d.Images {
		d.Images[i] = uint8(i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(d.Images)))
	for b.Loop() {
		d.Scaled()
	}
}

func BenchmarkGatherRows(b *testing.B) {
	src := make([]float32, 60000*784)
	_, idx := TrainTestSplit(60000, 0.2, 42)
	dst := make([]float32, len(idx)*784)
	b.ReportAllocs()
	b.SetBytes(int64(len(dst) * 4))
	for b.Loop() {
		if err := GatherRows(dst, src, 784, idx); err != nil {
			b.Fatal(err)
		}
	}
}
