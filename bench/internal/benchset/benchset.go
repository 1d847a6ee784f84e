// Package benchset reads Go benchmark-format files into samples grouped
// by benchmark, contender and unit, the shape both bench commands
// (peertable and gate) work on. Names are parsed with benchfmt and
// projected with benchproc, so sub-benchmark keys that other tools add
// (threads=, batch=, …) stay part of a benchmark's identity without this
// package knowing them.
package benchset

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchproc"
)

// Cell identifies one sample: a benchmark (Row), a contender (Col) and a
// unit as benchfmt tidies it (sec/op rather than ns/op).
type Cell struct {
	Row, Col, Unit string
}

// Set holds every measurement of one or more files.
type Set struct {
	// Rows, Cols and Units list the values seen, in first-seen order.
	Rows, Cols, Units []string
	// Samples holds the values of each cell in file order. When a file
	// is the output of several runs of a test binary with -count 1 (as
	// make test-gate writes it), the i-th values of all cells come from
	// the same round, which Ratios relies on to cancel slow drifts of
	// the machine's load.
	Samples map[Cell][]float64
	// Config holds the file configuration lines (key: value), the first
	// value seen for each key.
	Config map[string]string
	// ConfigKeys lists Config's keys in first-seen order.
	ConfigKeys []string
}

// Options says how names map to rows and columns. Rows do not include
// the pkg configuration: benchmarks of the same name from two packages
// fall into one row, so keep each package's results in a file of its
// own.
type Options struct {
	// ColKey is the sub-name key whose value names the column, such as
	// "impl" for impl=avx512, or several keys separated by commas
	// ("impl,threads"): the column is then the first key's value
	// followed by key=value for each other key the name has, as
	// "avx512 threads=2". Empty puts every result in column "".
	ColKey string
	// Defaults gives, for keys of ColKey after the first, a value that
	// is left out of the column name, so that threads=1 and a name
	// without threads fall into one column.
	Defaults map[string]string
	// IgnoreProcs drops the GOMAXPROCS suffix ("-2") from row names, so
	// that results of a run with GOMAXPROCS=2 share rows with those of a
	// GOMAXPROCS=1 run; the column key must then tell them apart (as
	// threads=2 does in peertable).
	IgnoreProcs bool
	// BestOf, when above 1, keeps the best of each run of BestOf
	// consecutive values of a cell (the smallest of a unit ending in /op,
	// else the largest): the results of one round written with -count
	// BestOf. Interference from other work on a shared machine only ever
	// slows a benchmark down, so the best of a few repeats is the figure
	// it leaves alone. A cell whose count is not a multiple of BestOf is
	// an error.
	BestOf int
}

// procsSuffix is the GOMAXPROCS suffix the testing package appends to a
// benchmark name when GOMAXPROCS > 1.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// New returns an empty Set.
func New() *Set {
	return &Set{Samples: map[Cell][]float64{}, Config: map[string]string{}}
}

// ReadFile reads one benchmark-format file. Syntax errors in result lines
// are errors: a gate must not silently compare fewer results than were
// written.
func ReadFile(path string, opt Options) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := New()
	var pp benchproc.ProjectionParser
	var col *benchproc.Projection
	if opt.ColKey != "" {
		keys := strings.Split(opt.ColKey, ",")
		for i := range keys {
			keys[i] = "/" + strings.TrimSpace(keys[i])
		}
		if col, err = pp.Parse(strings.Join(keys, ","), nil); err != nil {
			return nil, fmt.Errorf("column key %q: %v", opt.ColKey, err)
		}
	}
	// .fullname leaves out the keys projected above, so a row names the
	// benchmark without its contender.
	row, err := pp.Parse(".fullname", nil)
	if err != nil {
		return nil, err
	}
	r := benchfmt.NewReader(f, path)
	results := 0
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			results++
			for _, c := range rec.Config {
				if c.File {
					s.noteConfig(c.Key, string(c.Value))
				}
			}
			cell := Cell{Row: row.Project(rec).StringValues()}
			if opt.IgnoreProcs {
				cell.Row = procsSuffix.ReplaceAllString(cell.Row, "")
			}
			if col != nil {
				cell.Col = colName(col, col.Project(rec), opt.Defaults)
			}
			for _, v := range rec.Values {
				cell.Unit = v.Unit
				s.Add(cell, v.Value)
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if results == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	if opt.BestOf > 1 {
		for c, v := range s.Samples {
			if len(v)%opt.BestOf != 0 {
				return nil, fmt.Errorf("%s: %s has %d results, not a multiple of the %d per round", path, Name(c.Row, opt.ColKey, c.Col), len(v), opt.BestOf)
			}
			best := make([]float64, 0, len(v)/opt.BestOf)
			for i := 0; i < len(v); i += opt.BestOf {
				round := v[i : i+opt.BestOf]
				if LowerIsBetter(c.Unit) {
					best = append(best, slices.Min(round))
				} else {
					best = append(best, slices.Max(round))
				}
			}
			s.Samples[c] = best
		}
	}
	return s, nil
}

// colName spells a column as described at Options.ColKey.
func colName(p *benchproc.Projection, k benchproc.Key, defaults map[string]string) string {
	var name strings.Builder
	for i, f := range p.Fields() {
		v := k.Get(f)
		key := strings.TrimPrefix(f.Name, "/")
		switch {
		case i == 0:
			name.WriteString(v)
		case v != "" && v != defaults[key]:
			fmt.Fprintf(&name, " %s=%s", key, v)
		}
	}
	return name.String()
}

func (s *Set) noteConfig(key, value string) {
	if _, ok := s.Config[key]; !ok {
		s.Config[key] = value
		s.ConfigKeys = append(s.ConfigKeys, key)
	}
}

// Add appends v to the cell's sample, recording a new row, column or
// unit.
func (s *Set) Add(c Cell, v float64) {
	if _, ok := s.Samples[c]; !ok {
		s.note(&s.Rows, c.Row)
		s.note(&s.Cols, c.Col)
		s.note(&s.Units, c.Unit)
	}
	s.Samples[c] = append(s.Samples[c], v)
}

func (s *Set) note(list *[]string, v string) {
	for _, x := range *list {
		if x == v {
			return
		}
	}
	*list = append(*list, v)
}

// Name rebuilds a benchmark name from a row and column, putting the
// column back as the first sub-name key (where our benchmarks have impl).
func Name(row, colKey, col string) string {
	if colKey == "" || col == "" {
		return row
	}
	base, rest, _ := strings.Cut(row, "/")
	name := base + "/" + colKey + "=" + col
	if rest != "" {
		name += "/" + rest
	}
	return name
}

// LowerIsBetter reports whether a smaller value of unit is an
// improvement: costs per operation (sec/op, B/op, allocs/op) are,
// throughputs and ratios are not.
func LowerIsBetter(unit string) bool { return strings.HasSuffix(unit, "/op") }
