package benchset

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const sample = `goos: linux
cpu: Test CPU
pkg: example.com/kernels
BenchmarkSgemm/impl=generic/m=256,n=256,k=256	10	4000 ns/op	8 GFLOP/s
BenchmarkSgemm/impl=avx512/m=256,n=256,k=256	10	200 ns/op	160 GFLOP/s
BenchmarkSgemm/impl=avx512/threads=2/m=256,n=256,k=256	10	100 ns/op	320 GFLOP/s
BenchmarkSgemm/impl=generic/m=32,n=10,k=100	10	1000 ns/op	2 GFLOP/s
BenchmarkSgemm/impl=avx512/m=32,n=10,k=100	10	125 ns/op	16 GFLOP/s
BenchmarkSgemm/impl=generic/m=256,n=256,k=256	10	5000 ns/op	6.4 GFLOP/s
BenchmarkSgemm/impl=avx512/m=256,n=256,k=256	10	250 ns/op	300 GFLOP/s
BenchmarkSgemm/impl=avx512/threads=2/m=256,n=256,k=256	10	125 ns/op	256 GFLOP/s
BenchmarkSgemm/impl=generic/m=32,n=10,k=100	10	900 ns/op	2.2 GFLOP/s
BenchmarkSgemm/impl=avx512/m=32,n=10,k=100	10	300 ns/op	6.4 GFLOP/s
BenchmarkRelu/impl=avx512/n=3200	100	10 ns/op
`

func read(t *testing.T, text string, opt Options) *Set {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReadFile(t *testing.T) {
	s := read(t, sample, Options{ColKey: "impl"})
	wantRows := []string{"Sgemm/m=256,n=256,k=256", "Sgemm/threads=2/m=256,n=256,k=256", "Sgemm/m=32,n=10,k=100", "Relu/n=3200"}
	if !slices.Equal(s.Rows, wantRows) {
		t.Errorf("rows %q, want %q", s.Rows, wantRows)
	}
	if !slices.Equal(s.Cols, []string{"generic", "avx512"}) {
		t.Errorf("cols %q", s.Cols)
	}
	got := s.Samples[Cell{"Sgemm/m=256,n=256,k=256", "avx512", "sec/op"}]
	if len(got) != 2 || math.Abs(got[0]-200e-9) > 1e-18 || math.Abs(got[1]-250e-9) > 1e-18 {
		t.Errorf("avx512 256² sec/op %v, want file order [2e-07 2.5e-07]", got)
	}
	if s.Config["cpu"] != "Test CPU" || s.Config["pkg"] != "example.com/kernels" {
		t.Errorf("config %v", s.Config)
	}
	if n := Name("Sgemm/threads=2/m=256,n=256,k=256", "impl", "avx512"); n != "Sgemm/impl=avx512/threads=2/m=256,n=256,k=256" {
		t.Errorf("Name rebuilt %q", n)
	}
}

// peakSample adds FMA peak results to sample: avx512's own peak, and for
// threads=2 a peak of twice the one-thread rate; generic has none.
const peakSample = sample + `BenchmarkFMAPeak/impl=avx512/threads=1	10	100 ns/op	200 GFLOP/s
BenchmarkFMAPeak/impl=avx512/threads=1	10	100 ns/op	160 GFLOP/s
BenchmarkFMAPeak/impl=avx512/threads=2	10	100 ns/op	400 GFLOP/s
BenchmarkFMAPeak/impl=avx512/threads=2	10	100 ns/op	320 GFLOP/s
`

func TestRatiosValues(t *testing.T) {
	r, err := read(t, peakSample, Options{ColKey: "impl"}).Ratios()
	if err != nil {
		t.Fatal(err)
	}
	near := func(cell Cell, want []float64) {
		t.Helper()
		got := r.Samples[cell]
		if len(got) != len(want) {
			t.Fatalf("%v: %v, want %v", cell, got, want)
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12*want[i] {
				t.Errorf("%v: %v, want %v", cell, got, want)
				return
			}
		}
	}
	// Speedups pair the i-th values: 4000/200, 5000/250; 1000/125, 900/300.
	near(Cell{"Sgemm/m=256,n=256,k=256", "avx512", UnitSpeedup}, []float64{20, 20})
	near(Cell{"Sgemm/m=32,n=10,k=100", "avx512", UnitSpeedup}, []float64{8, 3})
	// Peak costs pair each round's time with the same round's peak of the
	// same level and thread count: 200 ns × 200 GFLOP/s, 250 ns × 160.
	near(Cell{"Sgemm/m=256,n=256,k=256", "avx512", UnitPeakCost}, []float64{40000, 40000})
	near(Cell{"Sgemm/threads=2/m=256,n=256,k=256", "avx512", UnitPeakCost}, []float64{40000, 40000})
	near(Cell{"Relu/n=3200", "avx512", UnitPeakCost}, []float64{2000})
	// generic has no peak loop: it is measured against avx512's.
	near(Cell{"Sgemm/m=32,n=10,k=100", "generic", UnitPeakCost}, []float64{200000, 144000})
	near(Cell{"Sgemm/m=32,n=10,k=100", "avx512", UnitPeakFraction}, []float64{16.0 / 200, 6.4 / 160})
	near(Cell{"Sgemm/threads=2/m=256,n=256,k=256", "avx512", UnitPeakFraction}, []float64{320.0 / 400, 256.0 / 320})
	// No generic ReLU, no generic threads=2 row: no speedup for them;
	// and the peak is not measured against itself.
	for _, c := range []Cell{
		{"Relu/n=3200", "avx512", UnitSpeedup}, {"Sgemm/threads=2/m=256,n=256,k=256", "avx512", UnitSpeedup},
		{"Sgemm/m=256,n=256,k=256", "generic", UnitSpeedup}, {"FMAPeak/threads=1", "avx512", UnitPeakFraction},
	} {
		if v, ok := r.Samples[c]; ok {
			t.Errorf("%v: %v, want none", c, v)
		}
	}

	// Written and read back, the ratios are the same set.
	var buf bytes.Buffer
	if err := r.Write(&buf, "impl"); err != nil {
		t.Fatal(err)
	}
	back := read(t, buf.String(), Options{ColKey: "impl"})
	for c, v := range r.Samples {
		w := back.Samples[c]
		if len(w) != len(v) {
			t.Fatalf("%v: read back %v, want %v", c, w, v)
		}
		for i := range v {
			if math.Abs(w[i]-v[i]) > 1e-5*v[i] {
				t.Errorf("%v: read back %v, want %v", c, w, v)
			}
		}
	}
}

func TestRatiosNeedPeak(t *testing.T) {
	r, err := read(t, sample, Options{ColKey: "impl"}).Ratios()
	if err != ErrNoPeak {
		t.Errorf("error %v, want ErrNoPeak", err)
	}
	if _, ok := r.Samples[Cell{"Sgemm/m=32,n=10,k=100", "avx512", UnitSpeedup}]; !ok {
		t.Error("without a peak, the speedups are still there")
	}
}

// TestBestOf: each run of BestOf results of a cell becomes its best: the
// smallest time, the largest throughput.
func TestBestOf(t *testing.T) {
	const text = `BenchmarkRelu/impl=avx2/n=3200	10	30 ns/op	5 GFLOP/s
BenchmarkRelu/impl=avx2/n=3200	10	10 ns/op	4 GFLOP/s
BenchmarkRelu/impl=avx2/n=3200	10	20 ns/op	6 GFLOP/s
BenchmarkRelu/impl=avx2/n=3200	10	15 ns/op	1 GFLOP/s
BenchmarkRelu/impl=avx2/n=3200	10	40 ns/op	2 GFLOP/s
BenchmarkRelu/impl=avx2/n=3200	10	50 ns/op	3 GFLOP/s
`
	s := read(t, text, Options{ColKey: "impl", BestOf: 3})
	if got := s.Samples[Cell{"Relu/n=3200", "avx2", "sec/op"}]; len(got) != 2 || math.Abs(got[0]-10e-9) > 1e-18 || math.Abs(got[1]-15e-9) > 1e-18 {
		t.Errorf("best times %v, want [1e-08 1.5e-08]", got)
	}
	if got := s.Samples[Cell{"Relu/n=3200", "avx2", "GFLOP/s"}]; !slices.Equal(got, []float64{6, 3}) {
		t.Errorf("best throughputs %v, want [6 3]", got)
	}
	path := filepath.Join(t.TempDir(), "r.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path, Options{ColKey: "impl", BestOf: 4}); err == nil {
		t.Error("6 results in rounds of 4: no error")
	}
}
