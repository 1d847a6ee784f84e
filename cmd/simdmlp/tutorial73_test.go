package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
)

// notebook73 returns the code cells of chapter 7-3 as the book writes
// them (with our cell numbers and .safetensors names), from the
// reconstruction kept in testdata: the replay must show exactly these.
func notebook73(t *testing.T) []nbCell {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tutorial-7-3.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cells := parseCells(string(b))
	if len(cells) == 0 {
		t.Fatal("no code cells in testdata/tutorial-7-3.txt")
	}
	return cells
}

// noGo73 are the statements of 7-3 that the replay shows without running
// Go: imports and enable_op_determinism, whose reproducibility mlp has
// without being asked.
var noGo73 = regexp.MustCompile(`^(from|import) |^tf\.config\.experimental\.enable_op_determinism\(\)$`)

// TestTutorial73Cells checks, without data, that chapter 7-3's cells are
// the book's code cells in order, and that every statement but comments,
// imports and enable_op_determinism runs Go.
func TestTutorial73Cells(t *testing.T) {
	var out bytes.Buffer
	r := &replay{out: &out, seed: 42}
	for _, c := range cells73(r) {
		r.showSource(c)
		for _, s := range c.steps {
			if s.run == nil && !s.comment() && !noGo73.MatchString(s.src) {
				t.Errorf("In [%d]: %q is shown but not run", c.n, s.src)
			}
		}
	}
	compareCells(t, parseCells(out.String()), notebook73(t))
}

// readReplay splits a replay's output into its cells, taking each cell's
// code from want: a cell's output may itself look like Python (such as
// dict_keys([...])), so where the code ends is known only from the
// notebook. A cell whose shown code differs is reported and its output is
// not read.
func readReplay(t *testing.T, out string, want []nbCell) []nbCell {
	t.Helper()
	var got []nbCell
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		m := cellHead.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(lines) && !cellHead.MatchString(lines[j]) {
			j++
		}
		n, _ := strconv.Atoi(m[1])
		c := nbCell{n: n}
		body := lines[i+1 : j]
		if k := len(got); k < len(want) {
			code := strings.Split(want[k].code, "\n")
			if len(body) >= len(code) && slices.Equal(body[:len(code)], code) {
				c.code, c.rest = want[k].code, body[len(code):]
			} else {
				c.code = strings.Join(body, "\n")
			}
		}
		got = append(got, c)
		i = j - 1
	}
	return got
}

// Output lines of 7-3 beyond those of 7-2 (see summaryLine and the
// others): what print(history.history.keys()) prints, the text of a
// figure with its file, `ls -al`'s lines, predict's verbose=2 line,
// np.mean's float, and stopped_epoch's integer.
var (
	keysLine    = regexp.MustCompile(`^dict_keys\(\[('[a-z_]+'(, )?)+\]\)$`)
	figureLine  = regexp.MustCompile(`^<Figure size 640x480 with 1 Axes: (.+\.png)>$`)
	lsLine      = regexp.MustCompile(`^-[rwx-]{9} +\d+ [A-Z][a-z]{2} [ 1-3]\d ( \d{4}|\d\d:\d\d) [\w.-]+\.safetensors$`)
	predictLine = regexp.MustCompile(`^\d+/\d+ - \d+s - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$`)
	floatLine   = regexp.MustCompile(`^(0\.\d+|1\.0)$`)
	intLine     = regexp.MustCompile(`^\d+$`)
)

// lineKinds are what checkOutput73 counts in a cell's output.
type lineKinds struct {
	models, keys, figures, ls, predict, mean, progress, scores, history, ints int
}

// checkOutput73 checks that a replayed cell of 7-3 (run with -verbose 2)
// prints what Keras, Python and Jupyter print for its statements and
// nothing else, and returns the figure files and dict_keys lines it
// printed. fits print nothing: the notebook passes verbose=0.
func checkOutput73(t *testing.T, c nbCell) (figures, keys []string) {
	t.Helper()
	code := c.code
	codeLines := strings.Split(code, "\n")
	last := codeLines[len(codeLines)-1]
	// The last statement of a cell may span lines; find where it starts.
	for i := len(codeLines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(codeLines[i], " ") {
			last = codeLines[i]
			break
		}
	}
	var got lineKinds
	for _, l := range c.rest {
		switch {
		case strings.TrimSpace(l) == "":
		case keysLine.MatchString(l):
			got.keys++
			keys = append(keys, l)
		case figureLine.MatchString(l):
			got.figures++
			figures = append(figures, figureLine.FindStringSubmatch(l)[1])
		case lsLine.MatchString(l):
			got.ls++
		case predictLine.MatchString(l):
			got.predict++
		case progressLine.MatchString(l): // evaluate's
			got.progress++
		case historyLine.MatchString(l):
			got.history++
		case scoresLine.MatchString(l):
			got.scores++
		case floatLine.MatchString(l):
			got.mean++
		case intLine.MatchString(l):
			got.ints++
		case summaryLine.MatchString(l):
			if strings.HasPrefix(l, "Model: ") {
				got.models++
			}
		default:
			t.Errorf("In [%d] prints %q, which Keras would not", c.n, l)
		}
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	want := lineKinds{
		models:   strings.Count(code, ".summary()"),
		keys:     strings.Count(code, "print(history.history.keys())"),
		figures:  strings.Count(code, "plt.show()"),
		predict:  strings.Count(code, ".predict("),
		mean:     strings.Count(code, "print(np.mean("),
		progress: strings.Count(code, ".evaluate("),
		scores:   b2i(strings.HasPrefix(last, "model.evaluate(")),
		history:  b2i(strings.HasPrefix(last, "model.fit(")),
		ints:     strings.Count(code, "print(early_stopping_cb.stopped_epoch)"),
	}
	if strings.Contains(code, "!ls -al") {
		// Only the weights and the whole model exist yet in a new
		// directory.
		want.ls = 2
	}
	if got != want {
		t.Errorf("In [%d] prints %+v, want %+v, for\n%s\noutput:\n%s", c.n, got, want, code, strings.Join(c.rest, "\n"))
	}
	return figures, keys
}

// needFashion skips a test when Fashion-MNIST is not on the machine.
func needFashion(t *testing.T) {
	t.Helper()
	if _, _, err := mnist.LoadFashionWith(mnist.Options{NoDownload: true}); err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
}

// replay73 runs chapter 7-3 with args (and -verbose 2 -out dir), fails the
// test on an error, and returns its output and the replay, whose
// histories the full run checks.
func replay73(t *testing.T, dir string, args ...string) (string, *replay) {
	t.Helper()
	var stderr, out bytes.Buffer
	a, code := parseTutorialArgs(append([]string{"7-3", "-verbose", "2", "-out", dir}, args...), &stderr)
	if a == nil {
		t.Fatalf("arguments %q: exit %d, %s", args, code, stderr.String())
	}
	a.replay.out = &out
	if err := a.replay.play(a.chapter); err != nil {
		t.Fatalf("replay: %v\noutput:\n%s", err, out.String())
	}
	return out.String(), &a.replay
}

// TestTutorial73Replay replays chapter 7-3 on 64 samples and 2 epochs per
// fit and checks the cells shown against the book, each cell's output
// against what Keras prints, the figures (PNG files that decode), and the
// model files (which load).
func TestTutorial73Replay(t *testing.T) {
	needFashion(t)
	dir := t.TempDir()
	out, _ := replay73(t, dir, "-limit", "64", "-epochs", "2")
	want := notebook73(t)
	// The notebook's epochs are 5, 10 and 20; -epochs 2 shows 2.
	for i := range want {
		want[i].code = regexp.MustCompile(`epochs=\d+`).ReplaceAllString(want[i].code, "epochs=2")
	}
	got := readReplay(t, out, want)
	compareCells(t, got, want)
	var figures, keys []string
	for _, c := range got {
		f, k := checkOutput73(t, c)
		for _, name := range f {
			if wantName := filepath.Join(dir, "cell"+twoDigits(c.n)+"-"); !strings.HasPrefix(name, wantName) {
				t.Errorf("In [%d]: figure %s is not named %s…", c.n, name, wantName)
			}
		}
		figures, keys = append(figures, f...), append(keys, k...)
	}
	if len(figures) != 7 {
		t.Errorf("%d figures, want the notebook's 7: %q", len(figures), figures)
	}
	for _, name := range figures {
		checkFigure(t, name)
	}
	if want := []string{"dict_keys(['loss', 'accuracy'])", "dict_keys(['loss', 'accuracy', 'val_loss', 'val_accuracy'])"}; !slices.Equal(keys, want) {
		t.Errorf("history keys printed %q, want %q", keys, want)
	}
	for _, name := range []string{"model-weights.safetensors", "model-whole.safetensors", "best-model.safetensors"} {
		m, err := mlp.Load(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := len(m.Layers()); got != 4 {
			t.Errorf("%s holds %d layers, want model_fn's 4 with the Dropout", name, got)
		}
	}
}

// twoDigits is n as the figure names write cell numbers.
func twoDigits(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// checkFigure fails the test unless path is a PNG image of matplotlib's
// default 640×480.
func checkFigure(t *testing.T, path string) {
	t.Helper()
	if b := checkPNG(t, path, 480).Bounds(); b.Dx() != 640 || b.Dy() != 480 {
		t.Errorf("%s is %d×%d, want 640×480", path, b.Dx(), b.Dy())
	}
}

// summary73 is the Dropout model's summary as Keras 2.14 prints it in the
// notebook: the fifth model_fn model, so sequential_4 with dense_8 and
// dense_9, and the chapter's first Dropout. Rows end in spaces up to 65
// columns.
const summary73 = `Model: "sequential_4"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 flatten_4 (Flatten)         (None, 784)               0         
                                                                 
 dense_8 (Dense)             (None, 100)               78500     
                                                                 
 dropout (Dropout)           (None, 100)               0         
                                                                 
 dense_9 (Dense)             (None, 10)                1010      
                                                                 
=================================================================
Total params: 79510 (310.59 KB)
Trainable params: 79510 (310.59 KB)
Non-trainable params: 0 (0.00 Byte)
_________________________________________________________________`

// TestTutorial73Full replays chapter 7-3 whole on the real data, with the
// notebook's epochs, and checks what the chapter teaches: the Dropout
// row of the summary; that the weights loaded into a new model predict
// the classes that give the saved model's own validation accuracy; that
// the checkpoint holds the epoch of least validation loss; and that the
// Dropout model stopped early ends at the book's accuracy or better.
func TestTutorial73Full(t *testing.T) {
	if testing.Short() {
		t.Skip("the full replay trains about 125 epochs")
	}
	needFashion(t)
	start := time.Now()
	out, r := replay73(t, t.TempDir())
	t.Logf("full replay of 7-3: %v", time.Since(start).Round(time.Millisecond))
	cells := map[int]nbCell{}
	for _, c := range readReplay(t, out, notebook73(t)) {
		cells[c.n] = c
		checkOutput73(t, c)
	}
	if got := strings.TrimSpace(strings.Join(cells[14].rest, "\n")); got != summary73 {
		t.Errorf("In [14]'s summary differs from Keras's:\n%s", lineDiff(got, summary73))
	}

	// In [21] prints the agreement of the reloaded weights' predictions;
	// In [22] evaluates the whole model saved with the same weights.
	mean := matchLine(t, cells[21], floatLine)
	agreement, _ := strconv.ParseFloat(mean, 64)
	if sc := scores(t, cells[22]); math.Abs(agreement-sc[1]) > 1e-4 {
		t.Errorf("load_weights then predict agrees on %v of the labels, but the saved model's accuracy is %v", agreement, sc[1])
	}

	// The checkpoint of In [23] holds the weights of the epoch with the
	// least val_loss, which In [24] evaluates: the same float32 mean over
	// the same batches as that epoch's validation.
	best := slices.Min(r.histories[23].History["val_loss"])
	if sc := scores(t, cells[24]); math.Abs(sc[0]-best) > 1e-6 {
		t.Errorf("best-model's val loss %v, want the fit's least val_loss %v", sc[0], best)
	}

	h := r.histories[25]
	stopped, err := strconv.Atoi(matchLine(t, cells[26], intLine))
	if err != nil {
		t.Fatal(err)
	}
	final := scores(t, cells[28])
	t.Logf("early stopping: stopped_epoch %d after %d epochs; final validation %v", stopped, len(h.Epoch), final)
	if stopped > 0 {
		// Stopped early with restore_best_weights: the model holds its
		// best epoch's weights, so it evaluates to that epoch's val_loss,
		// and the stop came patience (2) epochs after that epoch.
		if stopped != len(h.Epoch)-1 {
			t.Errorf("stopped_epoch %d, but the History has %d epochs", stopped, len(h.Epoch))
		}
		vl := h.History["val_loss"]
		bestEpoch := slices.Index(vl, slices.Min(vl))
		if math.Abs(final[0]-vl[bestEpoch]) > 1e-6 || stopped != bestEpoch+2 {
			t.Errorf("after stopping at epoch %d the model's val loss is %v; the best epoch was %d with %v", stopped, final[0], bestEpoch, vl[bestEpoch])
		}
	}
	if final[1] < 0.875 {
		t.Errorf("the Dropout model with early stopping reaches validation accuracy %v, want ≥ 0.875", final[1])
	}
}

// matchLine returns the one output line of c that re matches.
func matchLine(t *testing.T, c nbCell, re *regexp.Regexp) string {
	t.Helper()
	var found []string
	for _, l := range c.rest {
		if re.MatchString(l) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("In [%d] prints %d lines like %s, want 1:\n%s", c.n, len(found), re, strings.Join(c.rest, "\n"))
	}
	return found[0]
}

// scores reads the [loss, accuracy] list that Jupyter shows for a cell
// ending in model.evaluate.
func scores(t *testing.T, c nbCell) [2]float64 {
	t.Helper()
	l := strings.Trim(matchLine(t, c, scoresLine), "[]")
	var sc [2]float64
	for i, f := range strings.Split(l, ", ") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("In [%d]: %v", c.n, err)
		}
		sc[i] = v
	}
	return sc
}
