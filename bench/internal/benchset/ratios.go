package benchset

import (
	"errors"
	"fmt"
	"io"
	"regexp"
)

// Units of the ratios Ratios computes, all dimensionless.
const (
	// UnitPeakCost is what one op costs in the machine's peak: its time
	// times the FMA peak loop's flop rate in the same round, the number
	// of floating-point operations the peak loop does while the op runs
	// once. Lower is better, as for any /op unit. A kernel that slows
	// down raises it, whatever happens to the other levels, and no change
	// to the kernels can lower the peak it is measured against.
	UnitPeakCost = "peakflops/op"
	// UnitPeakFraction is a GEMM's GFLOP/s over the FMA peak of the same
	// round: the share of the peak it reaches. A benchmark may also
	// report it itself, against the peak it measured in its own process
	// (bench's epoch benchmarks do); Ratios then keeps its values.
	UnitPeakFraction = "peak-fraction"
	// UnitSpeedup is a contender's speed over impl=generic, the Go
	// reference, on the same benchmark in the same round. It is shown,
	// not gated by default: it cannot see a slowdown that hits every
	// level alike, and reads a slower generic as a gain.
	UnitSpeedup = "speedup"
)

// Generic is the column every speedup is taken against.
const Generic = "generic"

// PeakBenchmark is the benchmark whose results are the peak, one row per
// thread count: FMAPeak/threads=1, FMAPeak/threads=2 (kernels'
// BenchmarkFMAPeak/impl=<level>/threads=<n>).
const PeakBenchmark = "FMAPeak"

// ErrNoPeak is returned by Ratios for a file without FMA peak results.
var ErrNoPeak = errors.New("no " + PeakBenchmark + " results (BenchmarkFMAPeak in package kernels), the reference every ratio is measured against")

var (
	peakRE    = regexp.MustCompile(`^` + PeakBenchmark + `/threads=(\d+)$`)
	threadsRE = regexp.MustCompile(`(^|/)threads=(\d+)(/|$)`)
)

// Ratios turns one run's raw results (read with ColKey "impl") into
// within-run ratios against the machine's FMA peak, which no kernel can
// slow down, measured in the same round (the i-th values of each cell,
// from the same round when the file holds rounds of -count 1 runs):
//
//   - peakflops/op, for every benchmark and column with sec/op: its time
//     times the peak's GFLOP/s;
//   - peak-fraction, for every benchmark and column with GFLOP/s: its
//     GFLOP/s over the peak's;
//   - speedup, for every benchmark with a generic result and every other
//     column: generic's time over the column's.
//
// The peak of a column is the FMAPeak result of the same level and the
// same thread count as the benchmark (threads=N in its name, else 1); a
// level without a peak loop (generic) is measured against the first level
// that has one, in column order. A cell whose partner is missing is left
// out.
//
// A benchmark and column that report peak-fraction themselves measured
// their peak in their own process, when they ran (bench's epoch
// benchmarks, which run in another test binary than FMAPeak): their
// values are kept as they are, and the file's FMAPeak rows are not
// applied to them, as their rounds need not pair with its rounds.
//
// Ratios returns ErrNoPeak, with the speedups, when the file has neither
// a peak nor a benchmark's own peak-fraction.
func (s *Set) Ratios() (*Set, error) {
	out := New()
	for _, k := range s.ConfigKeys {
		out.noteConfig(k, s.Config[k])
	}
	for _, row := range s.Rows {
		ref, ok := s.Samples[Cell{row, Generic, "sec/op"}]
		if !ok || peakRE.MatchString(row) {
			continue
		}
		for _, col := range s.Cols {
			if col == Generic {
				continue
			}
			t, ok := s.Samples[Cell{row, col, "sec/op"}]
			if !ok {
				continue
			}
			for i := range min(len(ref), len(t)) {
				if t[i] > 0 {
					out.Add(Cell{row, col, UnitSpeedup}, ref[i]/t[i])
				}
			}
		}
	}
	havePeak := false
	for _, row := range s.Rows {
		if peakRE.MatchString(row) {
			continue
		}
		for _, col := range s.Cols {
			if own, ok := s.Samples[Cell{row, col, UnitPeakFraction}]; ok {
				havePeak = true
				for _, v := range own {
					out.Add(Cell{row, col, UnitPeakFraction}, v)
				}
				continue
			}
			peak := s.peak(threadsOf(row), col)
			if peak == nil {
				continue
			}
			havePeak = true
			t := s.Samples[Cell{row, col, "sec/op"}]
			for i := range min(len(t), len(peak)) {
				out.Add(Cell{row, col, UnitPeakCost}, t[i]*peak[i]*1e9)
			}
			g := s.Samples[Cell{row, col, "GFLOP/s"}]
			for i := range min(len(g), len(peak)) {
				out.Add(Cell{row, col, UnitPeakFraction}, g[i]/peak[i])
			}
		}
	}
	if !havePeak {
		return out, ErrNoPeak
	}
	return out, nil
}

// threadsOf returns the thread count a benchmark name gives (threads=N),
// or "1".
func threadsOf(row string) string {
	if m := threadsRE.FindStringSubmatch(row); m != nil {
		return m[2]
	}
	return "1"
}

// peak returns the FMA peak GFLOP/s samples for a benchmark of column col
// on threads threads: col's own, else the first column's that has one.
func (s *Set) peak(threads, col string) []float64 {
	row := PeakBenchmark + "/threads=" + threads
	if p, ok := s.Samples[Cell{row, col, "GFLOP/s"}]; ok {
		return p
	}
	for _, c := range s.Cols {
		if p, ok := s.Samples[Cell{row, c, "GFLOP/s"}]; ok {
			return p
		}
	}
	return nil
}

// Write prints the set in the benchmark format, one line per sample and
// unit, with its configuration first, so benchstat and ReadFile read it
// back. colKey names the column key (see Name).
func (s *Set) Write(w io.Writer, colKey string) error {
	for _, k := range s.ConfigKeys {
		if _, err := fmt.Fprintf(w, "%s: %s\n", k, s.Config[k]); err != nil {
			return err
		}
	}
	for _, row := range s.Rows {
		for _, col := range s.Cols {
			for _, unit := range s.Units {
				for _, v := range s.Samples[Cell{row, col, unit}] {
					if _, err := fmt.Fprintf(w, "Benchmark%s\t1\t%.6g %s\n", Name(row, colKey, col), v, unit); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
