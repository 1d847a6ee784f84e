package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mnist"
)

// seedNames maps each replayed chapter to the text export of its notebook.
var seedNames = map[string]string{
	"7-2": "tutorial-7-2-deep-neural-network.txt",
}

// readSeed returns the notebook text of a chapter. The seeds are kept
// outside the module, in shared/seed in the directory of the checkout or
// one above it; $SIMDMLP_SEED_DIR names another directory. The test is
// skipped when none is found.
func readSeed(t *testing.T, chapter string) string {
	t.Helper()
	name := seedNames[chapter]
	var dirs []string
	if d := os.Getenv("SIMDMLP_SEED_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, "shared", "seed"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			return string(b)
		}
	}
	t.Skipf("notebook %s not found in $SIMDMLP_SEED_DIR or any shared/seed above the package", name)
	return ""
}

// An nbCell is a code cell read back from a notebook's text export or from
// the replay's output: its number, its code, and the lines after the code
// up to the next cell (the output, and in a notebook also its prose).
type nbCell struct {
	n    int
	code string
	rest []string
}

var (
	cellHead = regexp.MustCompile(`^In \[(\d+)\]:$`)
	// stmtStart is how the first line of a Python statement begins: a
	// comment, an import, a parenthesised tuple being assigned to, or
	// names (dotted, separated by commas) assigned to or called.
	stmtStart = regexp.MustCompile(`^(#|\(|(from|import) |[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*[=(])`)
)

// parseCells reads the code cells of a notebook export: after "In [n]:",
// the first paragraph is code, and so is each following paragraph that
// looks like Python (see isCode); the first one that does not starts the
// output. Code lines lose their trailing blanks and paragraphs are
// separated by one blank line.
func parseCells(text string) []nbCell {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var cells []nbCell
	for i := 0; i < len(lines); i++ {
		m := cellHead.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(lines) && !cellHead.MatchString(strings.TrimSpace(lines[j])) {
			j++
		}
		n, _ := strconv.Atoi(m[1])
		cells = append(cells, splitCell(n, lines[i+1:j]))
		i = j - 1
	}
	return cells
}

// splitCell divides the lines of one cell into its code and the rest.
func splitCell(n int, lines []string) nbCell {
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	c := nbCell{n: n}
	var code []string
	for k := 0; k < len(lines); {
		start := k
		for start < len(lines) && blank(lines[start]) {
			start++
		}
		end := start
		for end < len(lines) && !blank(lines[end]) {
			end++
		}
		if start == end {
			break
		}
		if len(code) > 0 && !isCode(lines[start:end]) {
			c.rest = lines[start:]
			break
		}
		if len(code) > 0 {
			code = append(code, "")
		}
		for _, l := range lines[start:end] {
			code = append(code, strings.TrimRight(l, " \t"))
		}
		k = end
	}
	c.code = strings.Join(code, "\n")
	return c
}

// isCode reports whether a paragraph looks like Python: its first line
// starts a statement, and every line is ASCII outside comments and string
// literals (the notebooks' prose is Korean; their output is not Python).
func isCode(para []string) bool {
	if !stmtStart.MatchString(para[0]) {
		return false
	}
	for _, l := range para {
		if !asciiCode(l) {
			return false
		}
	}
	return true
}

// asciiCode reports whether a line of Python is ASCII up to its comment,
// string literals aside.
func asciiCode(line string) bool {
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#':
			return true
		case r > 0x7f:
			return false
		}
	}
	return true
}

// compareCells reports every way got's cells differ from the notebook's:
// a missing, extra or renumbered cell, or a statement changed, left out
// or added.
func compareCells(t *testing.T, got, want []nbCell) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("no code cells read from the notebook")
	}
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			t.Errorf("the replay lacks cell [%d]:\n%s", want[i].n, want[i].code)
		case i >= len(want):
			t.Errorf("the replay has cell [%d], which the notebook lacks:\n%s", got[i].n, got[i].code)
		case got[i].n != want[i].n:
			t.Errorf("cell %d of the replay is In [%d], the notebook's In [%d]", i+1, got[i].n, want[i].n)
		case got[i].code != want[i].code:
			t.Errorf("In [%d] differs from the notebook:\n%s", want[i].n, lineDiff(got[i].code, want[i].code))
		}
	}
}

// lineDiff shows the lines of got and want that differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < len(g) || i < len(w); i++ {
		gl, wl := "(none)", "(none)"
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d\n  replay:   %s\n  notebook: %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}

// TestParseCells checks the reading of a notebook export on the shapes
// the seeds have: code in paragraphs, a tuple assignment, Korean comments
// and strings, and prose or output right after the code.
func TestParseCells(t *testing.T) {
	text := `intro
In [2]:
x, y = f(
    1)  # 주석

z = g('모델')

summary() : 층에 대한 정보
In [4]:
#훈련
a.fit(x)   

Epoch 1/5
<History>
`
	got := parseCells(text)
	want := []nbCell{
		{n: 2, code: "x, y = f(\n    1)  # 주석\n\nz = g('모델')", rest: []string{"summary() : 층에 대한 정보"}},
		{n: 4, code: "#훈련\na.fit(x)", rest: []string{"Epoch 1/5", "<History>", ""}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseCells:\n got %#v\nwant %#v", got, want)
	}
}

// noGo are the statements that a replay may show without running Go for
// them: imports, which Go resolves when it builds the command, and the
// reshape to rows of 784 values, which Go's data already are.
var noGo = regexp.MustCompile(`^(from|import) |\.reshape\(`)

// TestTutorialCellsMatchNotebook checks, without data, that chapter 7-2's
// cells are the notebook's code cells with their numbers and statements,
// and that every statement but comments, imports and the reshape runs Go.
func TestTutorialCellsMatchNotebook(t *testing.T) {
	seed := readSeed(t, "7-2")
	var out bytes.Buffer
	r := &replay{out: &out, epochs: 5}
	for _, c := range cells72(r) {
		r.showSource(c)
		for _, s := range c.steps {
			if s.run == nil && !s.comment() && !noGo.MatchString(s.src) {
				t.Errorf("In [%d]: %q is shown but not run", c.n, s.src)
			}
		}
	}
	compareCells(t, parseCells(out.String()), parseCells(seed))
}

// Output lines that Keras prints for the statements of chapter 7-2 with
// verbose=2, and the lines of the values Jupyter shows.
var (
	summaryLine  = regexp.MustCompile(`^(Model: ".*"|_{65}|={65}| .*|(Total|Trainable|Non-trainable) params: .*)$`)
	epochLine    = regexp.MustCompile(`^Epoch \d+/\d+$`)
	progressLine = regexp.MustCompile(`^\d+/\d+ - \d+s - loss: [0-9.]+ - accuracy: [0-9.]+ - .*/step$`)
	historyLine  = regexp.MustCompile(`^<mlp\.History \[.*\]>$`)
	scoresLine   = regexp.MustCompile(`^\[[-0-9.e+]+, [-0-9.e+]+\]$`)
)

// checkOutput checks that a replayed cell prints what Keras would for its
// statements and nothing else: a summary per summary(), epochs per fit(),
// progress lines only from fit and evaluate, and the History or the
// scores only when fit or evaluate is the cell's last statement.
func checkOutput(t *testing.T, c nbCell) {
	t.Helper()
	codeLines := strings.Split(c.code, "\n")
	last := codeLines[len(codeLines)-1]
	fits := strings.Count(c.code, ".fit(")
	var models, epochs, progress, history, scores int
	for _, l := range c.rest {
		switch {
		case strings.TrimSpace(l) == "":
		case epochLine.MatchString(l):
			epochs++
		case progressLine.MatchString(l):
			progress++
		case historyLine.MatchString(l):
			history++
		case scoresLine.MatchString(l):
			scores++
		case summaryLine.MatchString(l):
			if strings.HasPrefix(l, "Model: ") {
				models++
			}
		default:
			t.Errorf("In [%d] prints %q, which Keras would not", c.n, l)
		}
	}
	if models != strings.Count(c.code, ".summary()") || epochs != fits*5 ||
		(progress > 0) != (fits > 0 || strings.Contains(c.code, ".evaluate(")) ||
		(history == 1) != strings.HasPrefix(last, "model.fit(") || history > 1 ||
		(scores == 1) != strings.HasPrefix(last, "model.evaluate(") || scores > 1 {
		t.Errorf("In [%d] prints %d summaries, %d epochs, %d progress lines, %d History and %d scores for\n%s\noutput:\n%s",
			c.n, models, epochs, progress, history, scores, c.code, strings.Join(c.rest, "\n"))
	}
}

// TestTutorialReplayFollowsNotebook replays chapter 7-2 on a few samples,
// with the notebook's 5 epochs so that its fit statements read the same,
// and checks the cells shown against the notebook and each cell's output
// against what Keras prints.
func TestTutorialReplayFollowsNotebook(t *testing.T) {
	seed := readSeed(t, "7-2")
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	code, stdout, stderr := runCmd("tutorial", "7-2", "-epochs", "5", "-limit", "64", "-verbose", "2")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if regexp.MustCompile(`(?i)compiled (with|using)`).MatchString(stdout) {
		t.Errorf("the replay prints lines Keras never prints:\n%s", stdout)
	}
	got := parseCells(stdout)
	compareCells(t, got, parseCells(seed))
	for _, c := range got {
		checkOutput(t, c)
	}
}

func TestTutorialArgs(t *testing.T) {
	for _, c := range []struct {
		args    []string
		chapter string
		epochs  int
	}{
		{nil, "7-2", 0},
		{[]string{"7-2"}, "7-2", 0},
		{[]string{"7-2", "-epochs", "3"}, "7-2", 3},
		{[]string{"-epochs", "3", "7-2"}, "7-2", 3},
		{[]string{"7-3", "-out", "x"}, "7-3", 0},
	} {
		var stderr bytes.Buffer
		a, code := parseTutorialArgs(c.args, &stderr)
		if a == nil || code != 0 || a.chapter.name != c.chapter || a.replay.epochs != c.epochs {
			t.Errorf("%q: %+v, exit %d, stderr %q", c.args, a, code, stderr.String())
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"8-1"}, `unknown chapter "8-1" (chapters: 7-2, 7-3)`},
		{[]string{"-limit", "10", "8-1"}, `unknown chapter "8-1"`},
		{[]string{"7-3", "-epochs", "-1"}, "bad arguments"},
		{[]string{"7-2", "7-3"}, "bad arguments"},
		{[]string{"7-2", "-epochs", "2", "extra"}, "bad arguments"},
	} {
		code, _, stderr := runCmd(append([]string{"tutorial"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "usage: simdmlp tutorial") {
			t.Errorf("%q: exit %d, stderr %q; want 2, %q and the usage", c.args, code, stderr, c.want)
		}
	}
}
