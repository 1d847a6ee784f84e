// Command gate fails a build on a statistically significant slowdown.
//
// It compares two files in the Go benchmark format (go test -bench
// output, several -count repeats each) benchmark by benchmark, with the
// statistics benchstat uses: the median of each side and the
// Mann-Whitney U test (golang.org/x/perf/benchmath). A benchmark fails
// when its median got worse by more than -threshold and the test says
// the two samples differ with p < -alpha:
//
//	gate -old base.txt -new head.txt [-threshold 10%] [-alpha 0.05] [-units sec/op]
//
// For a time (a unit ending in /op) worse means new/old − 1 above the
// threshold; for a throughput or ratio it means 1 − new/old above it,
// a drop of that fraction.
//
// With -ratios, both files are first turned into ratios measured within
// each run against the machine's FMA peak, which kernels' BenchmarkFMAPeak
// measures in every round (see benchset.Set.Ratios): each benchmark's
// time times the peak's flop rate (peakflops/op, the unit gated by
// default), each GEMM's share of the peak (peak-fraction) and each level's
// speedup over generic (speedup, shown). A benchmark that reports its own
// peak-fraction, against the peak measured in its own process (bench's
// epoch benchmarks), keeps it, and is gated on it by default: the
// default units are peakflops/op, and peak-fraction where a benchmark
// has no peakflops/op. Nothing the kernels do can slow
// the peak down, so a slowdown of one kernel, of one level or of every
// level at once shows; and ratios cancel a machine's load and speed, so a
// baseline recorded earlier gates a run now:
//
//	gate -ratios -best -old testdata/gate/AuthenticAMD-26-2.txt -new run.txt -threshold 20% -levels generic,avx2,avx512
//
// Without -old, -ratios prints the ratios of -new in the benchmark
// format. A benchmark of -old that -new lacks (a CI machine without
// AVX-512 has no impl=avx512) is listed but does not fail, unless its
// level is one -levels names: those are the levels the CPU supports,
// decided outside the code under test, and a run that lacks one of them
// (any result of it, or any the baseline has) fails.
//
// Exit status: 0 when nothing got significantly worse, 1 when something
// did, 2 on bad flags or unreadable files.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/simdmlp/simdmlp/bench/internal/benchset"
	"golang.org/x/perf/benchmath"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags select.
type config struct {
	oldPath, newPath string
	threshold, alpha float64
	units            []string
	ratios           bool
	levels           []string
	bestOf           int
	best             bool
	// ownFractions gates peak-fraction only where a benchmark has no
	// peakflops/op: a GEMM's fraction is its peak cost seen upside
	// down, an epoch's the only ratio it has (the default with -ratios).
	ownFractions bool
}

// run is the command with its arguments and outputs, returning the exit
// status, so tests drive it without a process.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var threshold, units, levels string
	fs.StringVar(&cfg.oldPath, "old", "", "baseline results (Go benchmark format)")
	fs.StringVar(&cfg.newPath, "new", "", "results to check (Go benchmark format)")
	fs.StringVar(&threshold, "threshold", "10%", "largest tolerated worsening of a median, as 10% or 0.1")
	fs.Float64Var(&cfg.alpha, "alpha", 0.05, "significance level of the Mann-Whitney U test")
	fs.StringVar(&units, "units", "", "comma-separated units to gate (default sec/op; with -ratios, peakflops/op, and peak-fraction for the benchmarks without peakflops/op)")
	fs.BoolVar(&cfg.ratios, "ratios", false, "compare within-run ratios against the FMA peak (peakflops/op, peak-fraction; speedup over generic is shown) instead of raw values")
	fs.BoolVar(&cfg.best, "best", false, "compare each side's best tenth (the value a tenth of the way from its smallest cost or largest rate) with -threshold alone, instead of medians with a significance test")
	fs.IntVar(&cfg.bestOf, "best-of", 1, "keep the best of every run of this many consecutive results of a benchmark (one round written with -count N)")
	fs.StringVar(&levels, "levels", "", "comma-separated impl values the machine supports: a run missing any of them fails")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gate -old OLD.txt -new NEW.txt [-threshold 10%%] [-alpha 0.05] [-units sec/op] [-ratios] [-levels generic,avx2]\n       gate -ratios -new RUN.txt   (prints the run's ratios)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gate: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	t, err := parseThreshold(threshold)
	if err != nil {
		return usage("%v", err)
	}
	cfg.threshold = t
	for _, l := range strings.Split(levels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			cfg.levels = append(cfg.levels, l)
		}
	}
	if !(cfg.alpha > 0 && cfg.alpha < 1) {
		return usage("-alpha %v is not between 0 and 1", cfg.alpha)
	}
	if cfg.newPath == "" {
		return usage("-new is required")
	}
	if cfg.bestOf < 1 {
		return usage("-best-of %d must be at least 1", cfg.bestOf)
	}
	if cfg.oldPath == "" && !cfg.ratios {
		return usage("-old is required (only -ratios runs without it)")
	}
	switch {
	case units != "":
		cfg.units = strings.Split(units, ",")
	case cfg.ratios:
		cfg.units = []string{benchset.UnitPeakCost, benchset.UnitPeakFraction}
		cfg.ownFractions = true
	default:
		cfg.units = []string{"sec/op"}
	}

	newSet, err := load(cfg.newPath, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gate: %v\n", err)
		return 2
	}
	if cfg.oldPath == "" {
		if err := newSet.Write(stdout, "impl"); err != nil {
			fmt.Fprintf(stderr, "gate: %v\n", err)
			return 2
		}
		return 0
	}
	oldSet, err := load(cfg.oldPath, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gate: %v\n", err)
		return 2
	}
	rep := compare(oldSet, newSet, cfg)
	rep.absent = absentLevels(newSet, cfg.levels)
	if rep.compared == 0 && len(rep.absent) == 0 {
		fmt.Fprintf(stderr, "gate: no benchmark in units %s appears in both %s and %s\n", strings.Join(cfg.units, ","), cfg.oldPath, cfg.newPath)
		return 2
	}
	rep.print(stdout, cfg)
	if rep.failed > 0 || len(rep.absent) > 0 {
		return 1
	}
	return 0
}

// absentLevels returns the levels of want that have no result in s.
func absentLevels(s *benchset.Set, want []string) []string {
	var out []string
	for _, l := range want {
		if !slices.Contains(s.Cols, l) {
			out = append(out, l)
		}
	}
	return out
}

// parseThreshold reads "10%" or "0.1" as 0.1.
func parseThreshold(s string) (float64, error) {
	v, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("-threshold %q is not a number or percentage", s)
	}
	if pct {
		f /= 100
	}
	if !(f >= 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("-threshold %q is negative", s)
	}
	return f, nil
}

// load reads a file with impl as the column, the best of each round kept
// and turned into ratios if asked.
func load(path string, cfg config) (*benchset.Set, error) {
	// A GOMAXPROCS=2 run's names end in -2; the threads= key, not the
	// suffix, tells its benchmarks from the one-thread ones.
	s, err := benchset.ReadFile(path, benchset.Options{ColKey: "impl", IgnoreProcs: true, BestOf: cfg.bestOf})
	if err != nil {
		return nil, err
	}
	if !cfg.ratios {
		return s, nil
	}
	r, err := s.Ratios()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// line is one compared benchmark.
type line struct {
	name, unit     string
	old, new       benchmath.Summary
	oldN, newN     int
	worse, p       float64
	missing, fails bool
}

// report is the outcome of a comparison.
type report struct {
	lines                    []line
	compared, failed, missed int
	// absent lists the levels the machine supports (-levels) of which
	// the new run has no result at all.
	absent []string
}

// compare tests every gated cell of old against the same cell of new.
func compare(oldSet, newSet *benchset.Set, cfg config) report {
	var rep report
	thr := &benchmath.Thresholds{CompareAlpha: cfg.alpha}
	for _, row := range oldSet.Rows {
		for _, col := range oldSet.Cols {
			for _, unit := range cfg.units {
				c := benchset.Cell{Row: row, Col: col, Unit: unit}
				ov, ok := oldSet.Samples[c]
				if !ok {
					continue
				}
				if cfg.ownFractions && unit == benchset.UnitPeakFraction {
					if _, cost := oldSet.Samples[benchset.Cell{Row: row, Col: col, Unit: benchset.UnitPeakCost}]; cost {
						continue
					}
				}
				l := line{name: benchset.Name(row, "impl", col), unit: unit, oldN: len(ov)}
				oldS := benchmath.NewSample(slices.Clone(ov), thr)
				l.old = benchmath.AssumeNothing.Summary(oldS, 0.95)
				if cfg.best {
					l.old = benchmath.Summary{Center: bestValue(ov, unit)}
				}
				nv, ok := newSet.Samples[c]
				if !ok {
					l.missing = true
					rep.missed++
					// A level the CPU supports must be measured.
					if slices.Contains(cfg.levels, col) {
						l.fails = true
						rep.failed++
					}
					rep.lines = append(rep.lines, l)
					continue
				}
				rep.compared++
				l.newN = len(nv)
				if cfg.best {
					l.new = benchmath.Summary{Center: bestValue(nv, unit)}
					l.worse = worsening(l.old.Center, l.new.Center, unit)
					l.fails = l.worse > cfg.threshold
				} else {
					ns := benchmath.NewSample(slices.Clone(nv), thr)
					l.new = benchmath.AssumeNothing.Summary(ns, 0.95)
					l.p = benchmath.AssumeNothing.Compare(oldS, ns).P
					l.worse = worsening(l.old.Center, l.new.Center, unit)
					l.fails = l.worse > cfg.threshold && l.p < cfg.alpha
				}
				if l.fails {
					rep.failed++
				}
				rep.lines = append(rep.lines, l)
			}
		}
	}
	return rep
}

// bestQuantile is where in a sample, from its good end, bestValue reads:
// near enough to the best that interference (which only ever slows a
// benchmark) is left out, far enough from it that one lucky measurement
// does not set the bar.
const bestQuantile = 0.1

// bestValue is the best tenth of a sample: the value a tenth of the way
// from its smallest cost (or its largest rate or ratio).
func bestValue(v []float64, unit string) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if !benchset.LowerIsBetter(unit) {
		slices.Reverse(s)
	}
	return s[int(bestQuantile*float64(len(s)-1)+0.5)]
}

// worsening is how much worse new is than old, as a fraction: the
// relative increase of a cost, or the relative drop of a throughput or
// ratio. Negative values are improvements.
func worsening(old, new float64, unit string) float64 {
	if benchset.LowerIsBetter(unit) {
		return new/old - 1
	}
	return 1 - new/old
}

// print writes the significant changes, the missing benchmarks and a
// summary. Insignificant lines are left out, as benchstat's "~".
func (rep report) print(w io.Writer, cfg config) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	significant, shown := 0, 0
	head := func() {
		if shown == 0 {
			fmt.Fprintf(tw, "benchmark\tunit\told (median ±CI)\tnew (median ±CI)\tchange\tp\tverdict\n")
		}
		shown++
	}
	for _, l := range rep.lines {
		if l.missing {
			head()
			verdict := "not compared"
			if l.fails {
				verdict = "FAIL: missing, and the machine supports the level"
			}
			old := cell(l.old)
			if cfg.best {
				old = fmt.Sprintf("%.4g (best)", l.old.Center)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t(missing)\t\t\t%s\n", l.name, l.unit, old, verdict)
			continue
		}
		// Best values carry no test: a change is shown from 5% on.
		if cfg.best && math.Abs(l.worse) < 0.05 || !cfg.best && l.p >= cfg.alpha {
			continue
		}
		significant++
		head()
		verdict := "worse, within threshold"
		switch {
		case l.fails:
			verdict = "FAIL"
		case l.worse < 0:
			verdict = "better"
		}
		if cfg.best {
			fmt.Fprintf(tw, "%s\t%s\t%.4g (best)\t%.4g (best)\t%+.1f%%\tn=%d+%d\t%s\n", l.name, l.unit,
				l.old.Center, l.new.Center, 100*(l.new.Center/l.old.Center-1), l.oldN, l.newN, verdict)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.1f%%\tp=%.3f n=%d+%d\t%s\n", l.name, l.unit,
			cell(l.old), cell(l.new), 100*(l.new.Center/l.old.Center-1), l.p, l.oldN, l.newN, verdict)
	}
	tw.Flush()
	// The largest worsening, significant or not, shows how much margin
	// the threshold left on this run.
	worst := -1
	for i, l := range rep.lines {
		if !l.missing && (worst < 0 || l.worse > rep.lines[worst].worse) {
			worst = i
		}
	}
	if worst >= 0 {
		l := rep.lines[worst]
		if shown > 0 {
			fmt.Fprintln(w)
		}
		if cfg.best {
			fmt.Fprintf(w, "largest worsening of a best value: %.1f%% (%s %s)", 100*l.worse, l.name, l.unit)
		} else {
			fmt.Fprintf(w, "largest worsening: %.1f%% (%s %s, p=%.3f)", 100*l.worse, l.name, l.unit, l.p)
		}
	}
	if cfg.best {
		fmt.Fprintf(w, "\n%d compared by their best values, %d changed by 5%% or more, %d worse by more than %.0f%%, %d missing from %s\n",
			rep.compared, significant, rep.failed, 100*cfg.threshold, rep.missed, cfg.newPath)
	} else {
		fmt.Fprintf(w, "\n%d compared, %d significantly different (p < %g), %d worse by more than %.0f%%, %d missing from %s\n",
			rep.compared, significant, cfg.alpha, rep.failed, 100*cfg.threshold, rep.missed, cfg.newPath)
	}
	for _, l := range rep.absent {
		fmt.Fprintf(w, "FAIL: level %s is supported by this machine (-levels) but has no results in %s\n", l, cfg.newPath)
	}
	switch {
	case rep.failed > 0:
		fmt.Fprintf(w, "FAIL: %d benchmark(s) worse by more than %.0f%%, or missing though their level is supported\n", rep.failed, 100*cfg.threshold)
	case len(rep.absent) == 0:
		fmt.Fprintln(w, "ok")
	}
}

// cell formats a median with its confidence interval as benchstat does.
func cell(s benchmath.Summary) string {
	return fmt.Sprintf("%.4g ±%s", s.Center, s.PctRangeString())
}
