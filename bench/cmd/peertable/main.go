// Command peertable turns the output of make bench-peers into a Markdown
// table of simdmlp beside its peers, and optionally a bar chart of it.
//
//	peertable [-unit sec/op] [-base avx512] [-o bench-peers.md] [-png bench-peers.png] bench-peers.txt
//
// Rows are benchmarks (a GEMM shape, an epoch, evaluate, one-sample
// latency), columns are contenders: impl=, plus threads= when a result
// ran on more than one thread. Each cell is the median of the repeats
// with benchstat's ± (the half-width of the 95% confidence interval of
// the median, in percent) and the ratio to the base column's median,
// expressed as time: ×2 means the contender takes twice as long as the
// base (for a throughput unit, it delivers half). The base defaults to
// simdmlp's best kernel level in the file.
//
// The header names the machine (the cpu: line of the results, or
// /proc/cpuinfo), the Go version, the OpenBLAS cores and the PyTorch,
// numpy, ONNX Runtime and GoMLX versions, which the bench programs print
// as '#' lines; those
// stay comments rather than configuration lines because benchstat would
// split a table at every configuration change.
//
// Outputs are written to a temporary file and renamed, so an error
// leaves no half-written table or picture.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/bench/internal/benchset"
	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"golang.org/x/perf/benchmath"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// levels are simdmlp's kernel levels, best first: the default base is
// the first of them the file has.
var levels = []string{"avx512", "neon", "avx2", "generic"}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peertable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	unit := fs.String("unit", "sec/op", "unit of the cells, as benchfmt tidies it (sec/op, GFLOP/s, B/op, …)")
	base := fs.String("base", "", "column the ratios are taken against (default: the best simdmlp level present)")
	out := fs.String("o", "", "write the Markdown table to this file instead of standard output")
	png := fs.String("png", "", "also draw a grouped bar chart of speed relative to the base into this PNG file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: peertable [-unit sec/op] [-base COLUMN] [-o FILE.md] [-png FILE.png] RESULTS.txt")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "peertable: want exactly one results file")
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	set, err := benchset.ReadFile(path, benchset.Options{ColKey: "impl,threads", Defaults: map[string]string{"threads": "1"}, IgnoreProcs: true})
	if err != nil {
		fmt.Fprintf(stderr, "peertable: %v\n", err)
		return 2
	}
	info, err := readInfo(path)
	if err != nil {
		fmt.Fprintf(stderr, "peertable: %v\n", err)
		return 2
	}
	t, err := newTable(set, *unit, *base)
	if err != nil {
		fmt.Fprintf(stderr, "peertable: %v\n", err)
		return 2
	}
	md := t.markdown(header(set, info))
	if *out == "" {
		io.WriteString(stdout, md)
	} else if err := atomicfile.Write(*out, func(w io.Writer) error { _, err := io.WriteString(w, md); return err }); err != nil {
		fmt.Fprintf(stderr, "peertable: %v\n", err)
		return 1
	}
	if *png != "" {
		if err := atomicfile.Write(*png, t.drawPNG); err != nil {
			fmt.Fprintf(stderr, "peertable: %v\n", err)
			return 1
		}
	}
	return 0
}

// info is what the '#' lines of the results say about the peers.
type info struct {
	openblasCores, torch, numpy, kernels, onnxruntime, gomlx []string
}

// readInfo collects the distinct values of the '#' lines the bench
// programs print: "# openblas: core X, …" (Go), "# openblas-core: X",
// "# torch-version: X", "# numpy-version: X" (Python),
// "# onnxruntime-version: X" (peers/ort_mlp.js), "# gomlx-version: X"
// (peers/gomlx) and "# simdmlp kernels: …".
func readInfo(path string) (info, error) {
	var in info
	f, err := os.Open(path)
	if err != nil {
		return in, err
	}
	defer f.Close()
	add := func(list *[]string, v string) {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		key, val, _ := strings.Cut(line, ": ")
		switch key {
		case "openblas":
			core, _, _ := strings.Cut(strings.TrimPrefix(val, "core "), ",")
			add(&in.openblasCores, core)
		case "openblas-core":
			add(&in.openblasCores, val)
		case "torch-version":
			add(&in.torch, val)
		case "numpy-version":
			add(&in.numpy, val)
		case "onnxruntime-version":
			add(&in.onnxruntime, val)
		case "gomlx-version":
			add(&in.gomlx, val)
		case "simdmlp kernels":
			add(&in.kernels, val)
		}
	}
	return in, sc.Err()
}

// header is the paragraph above the table.
func header(set *benchset.Set, in info) string {
	cpu := set.Config["cpu"]
	if cpu == "" {
		cpu = cpuModel()
	}
	none := func(v []string) string {
		if len(v) == 0 {
			return "not in the results"
		}
		return strings.Join(v, ", ")
	}
	var b strings.Builder
	// The Go version is this program's: make bench-peers builds it with
	// the toolchain that ran the benchmarks.
	fmt.Fprintf(&b, "Machine: %s, %s/%s. Go %s. ", cpu, runtime.GOOS, runtime.GOARCH, strings.TrimPrefix(runtime.Version(), "go"))
	if len(in.kernels) > 0 {
		fmt.Fprintf(&b, "simdmlp kernels: %s. ", none(in.kernels))
	}
	fmt.Fprintf(&b, "OpenBLAS cores: %s. PyTorch %s. numpy %s.", none(in.openblasCores), none(in.torch), none(in.numpy))
	if len(in.onnxruntime) > 0 {
		// Only when measured: most runs (make bench-torch, older files)
		// have no ONNX Runtime, and saying so in every header is noise.
		fmt.Fprintf(&b, " ONNX Runtime %s (onnxruntime-node, one thread).", none(in.onnxruntime))
	}
	if len(in.gomlx) > 0 {
		fmt.Fprintf(&b, " GoMLX %s (its pure-Go backend, GOEXPERIMENT=simd).", none(in.gomlx))
	}
	b.WriteString("\n")
	return b.String()
}

// cpuModel is the first model name in /proc/cpuinfo, for results that
// carry no cpu: line (the Python peers print none).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// table is the set reduced to one unit: a summary per cell.
type table struct {
	unit, base string
	rows, cols []string
	cells      map[[2]string]summary
}

// summary is one cell's statistics.
type summary struct {
	benchmath.Summary
	n int
}

func newTable(set *benchset.Set, unit, base string) (*table, error) {
	t := &table{unit: unit, cells: map[[2]string]summary{}}
	for _, row := range set.Rows {
		for _, col := range set.Cols {
			v, ok := set.Samples[benchset.Cell{Row: row, Col: col, Unit: unit}]
			if !ok {
				continue
			}
			s := benchmath.NewSample(slices.Clone(v), &benchmath.DefaultThresholds)
			t.cells[[2]string{row, col}] = summary{benchmath.AssumeNothing.Summary(s, 0.95), len(v)}
			if !slices.Contains(t.rows, row) {
				t.rows = append(t.rows, row)
			}
			if !slices.Contains(t.cols, col) {
				t.cols = append(t.cols, col)
			}
		}
	}
	if len(t.rows) == 0 {
		return nil, fmt.Errorf("no results in unit %s (units present: %s)", unit, strings.Join(set.Units, ", "))
	}
	if base == "" {
		for _, l := range levels {
			if slices.Contains(t.cols, l) {
				base = l
				break
			}
		}
	}
	if !slices.Contains(t.cols, base) {
		return nil, fmt.Errorf("base column %q not among %q", base, t.cols)
	}
	t.base = base
	return t, nil
}

// ratio is the cell's median over the base's in the same row, as time
// (for a throughput, base over cell), or NaN when either is missing.
func (t *table) ratio(row, col string) float64 {
	c, ok1 := t.cells[[2]string{row, col}]
	b, ok2 := t.cells[[2]string{row, t.base}]
	if !ok1 || !ok2 || c.Center == 0 || b.Center == 0 {
		return math.NaN()
	}
	if benchset.LowerIsBetter(t.unit) {
		return c.Center / b.Center
	}
	return b.Center / c.Center
}

func (t *table) markdown(head string) string {
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "\nCells: median ±95%% confidence interval of the median (benchstat's ±) over the runs, in %s, then ×: %s relative to %s (×2: takes twice as long).\n\n",
		t.unit, map[bool]string{true: "the median", false: "the time per unit of work"}[benchset.LowerIsBetter(t.unit)], t.base)
	b.WriteString("| benchmark |")
	for _, c := range t.cols {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(t.cols)))
	b.WriteString("\n")
	for _, row := range t.rows {
		fmt.Fprintf(&b, "| %s |", row)
		for _, col := range t.cols {
			c, ok := t.cells[[2]string{row, col}]
			if !ok {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(&b, " %s ±%s", format(c.Center, t.unit), c.PctRangeString())
			if r := t.ratio(row, col); !math.IsNaN(r) {
				fmt.Fprintf(&b, " ×%s", ratioString(r))
			}
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// format prints a value in its unit, seconds scaled to ns … s.
func format(v float64, unit string) string {
	if unit == "sec/op" {
		for _, s := range []struct {
			name  string
			scale float64
		}{{"s", 1}, {"ms", 1e-3}, {"µs", 1e-6}} {
			if v >= s.scale {
				return fmt.Sprintf("%.3g %s", v/s.scale, s.name)
			}
		}
		return fmt.Sprintf("%.3g ns", v/1e-9)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}

func ratioString(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// errNothingToDraw is returned when no cell has a base to compare with.
var errNothingToDraw = errors.New("no row has both the base and another column to draw")
