package benchset

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
)

// Units of the ratios Ratios computes. Both are dimensionless and higher
// is better.
const (
	// UnitSpeedup is a contender's speed over impl=generic, the Go
	// reference, on the same benchmark in the same round.
	UnitSpeedup = "speedup"
	// UnitPeakFraction is a GEMM's GFLOP/s over the round's best
	// GFLOP/s on a large square product.
	UnitPeakFraction = "peak-fraction"
)

// Generic is the column every speedup is taken against.
const Generic = "generic"

// squareRE matches the GEMM squares that define the peak.
var squareRE = regexp.MustCompile(`(^|/)m=(\d+),n=(\d+),k=(\d+)$`)

// PeakMinSize is the smallest square product whose GFLOP/s counts
// towards the peak: below it, packing and call overhead still show.
const PeakMinSize = 256

// Ratios turns one run's raw results (read with ColKey "impl") into
// within-run ratios, which hold across machines where raw times do not:
//
//   - speedup, for every benchmark with sec/op and every column other than
//     generic: generic's time over the column's, round by round (the i-th
//     values of each, from the same round when the file holds rounds of
//     -count 1 runs);
//   - peak-fraction, for every benchmark and column with GFLOP/s: its
//     GFLOP/s over the peak measured in the same round, the GFLOP/s of
//     the square product (of at least PeakMinSize) and column with the
//     highest median in the file. The peak is measured, not the CPU's
//     nominal FMA rate: Go has no vector FMA to measure it with outside
//     the kernels themselves.
//
// A cell whose partner is missing is left out, so a machine without a
// level simply has fewer ratios.
func (s *Set) Ratios() (*Set, error) {
	out := New()
	for _, k := range s.ConfigKeys {
		out.noteConfig(k, s.Config[k])
	}
	haveGeneric := false
	for _, row := range s.Rows {
		ref, ok := s.Samples[Cell{row, Generic, "sec/op"}]
		if !ok {
			continue
		}
		haveGeneric = true
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
	if !haveGeneric {
		return nil, ErrNoGeneric
	}
	peak := s.peak()
	if len(peak) > 0 {
		for _, row := range s.Rows {
			for _, col := range s.Cols {
				g, ok := s.Samples[Cell{row, col, "GFLOP/s"}]
				if !ok {
					continue
				}
				for i := range min(len(g), len(peak)) {
					out.Add(Cell{row, col, UnitPeakFraction}, g[i]/peak[i])
				}
			}
		}
	}
	return out, nil
}

// peak returns the GFLOP/s samples, in file order, of the reference
// for peak-fraction: of all square products of at least PeakMinSize on
// any column, the one with the highest median. A single reference
// paired round by round, rather than each round's best square, keeps
// the ratio free of the upward bias a maximum over noisy cells has. It
// returns nil when the file has no such square.
func (s *Set) peak() []float64 {
	var peak []float64
	best := math.Inf(-1)
	for _, row := range s.Rows {
		m := squareRE.FindStringSubmatch(row)
		if m == nil || m[2] != m[3] || m[3] != m[4] {
			continue
		}
		if n, _ := strconv.Atoi(m[2]); n < PeakMinSize {
			continue
		}
		for _, col := range s.Cols {
			g := s.Samples[Cell{row, col, "GFLOP/s"}]
			if len(g) == 0 {
				continue
			}
			if med := median(g); med > best {
				best, peak = med, g
			}
		}
	}
	return peak
}

// median is the middle value of x, which it leaves in order.
func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
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
