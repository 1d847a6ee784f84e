package mlp

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
)

// csvRows is the CSV Keras's CSVLogger writes for the History h: the
// header, then one row per epoch, with Python's repr of each value. The
// repr is pyfmt.AppendRepr's, which TestPyFormatRepr checks against CPython.
func csvRows(h *History, sep string, header bool) string {
	var b strings.Builder
	keys := []string{"accuracy", "loss", "val_accuracy", "val_loss"}
	if header {
		b.WriteString("epoch" + sep + strings.Join(keys, sep) + "\r\n")
	}
	for i, e := range h.Epoch {
		b.WriteString(strconv.Itoa(e))
		for _, k := range keys {
			b.WriteString(sep)
			if vals, ok := h.History[k]; ok {
				b.Write(pyfmt.AppendRepr(nil, vals[i]))
			} else {
				b.WriteString("NA")
			}
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func fitCSV(t *testing.T, c *CSVLogger, epochs int, validate bool, extra ...Callback) *History {
	t.Helper()
	m := overfitModel(t)
	x, y, val := overfitData()
	cfg := FitConfig{Epochs: epochs, BatchSize: overfitBatch, Verbose: VerboseSilent, Seed: 9,
		Callbacks: append(extra, c)}
	if validate {
		cfg.ValidationData = val
	}
	h, err := m.Fit(x, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCSVLoggerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	h := fitCSV(t, &CSVLogger{Path: path}, 3, true)
	got := string(mustRead(t, path))
	if want := csvRows(h, ",", true); got != want {
		t.Fatalf("file:\n%q\nwant:\n%q", got, want)
	}
	if !strings.HasPrefix(got, "epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.") {
		t.Errorf("file starts %q", got[:60])
	}

	// Append adds rows, and no second header.
	h2 := fitCSV(t, &CSVLogger{Path: path, Append: true}, 2, true)
	if got, want := string(mustRead(t, path)), csvRows(h, ",", true)+csvRows(h2, ",", false); got != want {
		t.Errorf("appended file:\n%q\nwant:\n%q", got, want)
	}
	// Without Append the file is replaced.
	h3 := fitCSV(t, &CSVLogger{Path: path}, 1, true)
	if got, want := string(mustRead(t, path)), csvRows(h3, ",", true); got != want {
		t.Errorf("rewritten file:\n%q\nwant:\n%q", got, want)
	}
	// Append to a file that does not exist yet writes the header.
	path2 := filepath.Join(t.TempDir(), "new.csv")
	h4 := fitCSV(t, &CSVLogger{Path: path2, Append: true, Separator: ";"}, 2, true)
	if got, want := string(mustRead(t, path2)), csvRows(h4, ";", true); got != want {
		t.Errorf("file with ';':\n%q\nwant:\n%q", got, want)
	}
}

// TestCSVLoggerNoValidation: as Keras 2.14, the validation columns are
// there even without validation, holding NA.
func TestCSVLoggerNoValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	h := fitCSV(t, &CSVLogger{Path: path}, 2, false)
	got := string(mustRead(t, path))
	if want := csvRows(h, ",", true); got != want || !strings.Contains(got, ",NA,NA\r\n") {
		t.Errorf("file:\n%q\nwant:\n%q", got, want)
	}
}

// TestCSVLoggerWithEarlyStopping: the epoch that stops is logged, and the
// file is closed and complete when Fit returns.
func TestCSVLoggerWithEarlyStopping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	es := &EarlyStopping{Patience: 1}
	h := fitCSV(t, &CSVLogger{Path: path}, overfitEpochs, true, es)
	if es.StoppedEpoch == 0 || len(h.Epoch) != es.StoppedEpoch+1 {
		t.Fatalf("stopped after %d with %d epochs", es.StoppedEpoch, len(h.Epoch))
	}
	if got, want := string(mustRead(t, path)), csvRows(h, ",", true); got != want {
		t.Errorf("file:\n%q\nwant:\n%q", got, want)
	}
}

// TestCSVLoggerQuoting: rows written directly, against what CPython's csv
// module writes for the same logs (DictWriter with the separator as
// delimiter): a field holding the separator is quoted.
func TestCSVLoggerQuoting(t *testing.T) {
	logs := Logs{"loss": 0.6931471824645996, "accuracy": 0.5, "val_loss": 1e-05, "val_accuracy": 2.0}
	last := Logs{"loss": math.NaN(), "accuracy": math.Inf(1)}
	for _, c := range []struct{ sep, want string }{
		{",", "epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.5,0.6931471824645996,2.0,1e-05\r\n1,0.5,0.6931471824645996,2.0,1e-05\r\n10,inf,nan,NA,NA\r\n"},
		{".", "epoch.accuracy.loss.val_accuracy.val_loss\r\n0.\"0.5\".\"0.6931471824645996\".\"2.0\".1e-05\r\n1.\"0.5\".\"0.6931471824645996\".\"2.0\".1e-05\r\n10.inf.nan.NA.NA\r\n"},
		{"a", "epocha\"accuracy\"alossa\"val_accuracy\"a\"val_loss\"\r\n0a0.5a0.6931471824645996a2.0a1e-05\r\n1a0.5a0.6931471824645996a2.0a1e-05\r\n10ainfa\"nan\"aNAaNA\r\n"},
		{"\t", "epoch\taccuracy\tloss\tval_accuracy\tval_loss\r\n0\t0.5\t0.6931471824645996\t2.0\t1e-05\r\n1\t0.5\t0.6931471824645996\t2.0\t1e-05\r\n10\tinf\tnan\tNA\tNA\r\n"},
	} {
		path := filepath.Join(t.TempDir(), "q.csv")
		c2 := &CSVLogger{Path: path, Separator: c.sep}
		tr := &Training{}
		steps := []error{c2.OnTrainBegin(tr), c2.OnEpochEnd(tr, 0, logs), c2.OnEpochEnd(tr, 1, logs),
			c2.OnEpochEnd(tr, 10, last), c2.OnTrainEnd(tr, last)}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := string(mustRead(t, path)); got != c.want {
			t.Errorf("separator %q:\n%q\nwant\n%q", c.sep, got, c.want)
		}
	}
}

func TestCSVLoggerErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		c    *CSVLogger
		want string
	}{
		{&CSVLogger{Path: filepath.Join(dir, "no", "such", "dir.csv")}, "no such file"},
		{&CSVLogger{}, "Path is empty"},
		{&CSVLogger{Path: filepath.Join(dir, "x.csv"), Separator: ";;"}, "one character"},
		{&CSVLogger{Path: filepath.Join(dir, "x.csv"), Separator: `"`}, "one character"},
	} {
		m := overfitModel(t)
		x, y, _ := overfitData()
		h, err := m.Fit(x, y, FitConfig{Epochs: 2, Verbose: VerboseSilent, Callbacks: []Callback{c.c}})
		if err == nil || !strings.Contains(err.Error(), c.want) || len(h.Epoch) != 0 {
			t.Errorf("%+v: %v after %d epochs; want %q before training", *c.c, err, len(h.Epoch), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Error("a refused CSVLogger created its file")
	}
}
