package mlp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func summaryText(t *testing.T, m *Sequential) string {
	t.Helper()
	var b strings.Builder
	if err := m.Summary(&b); err != nil {
		t.Fatalf("Summary: %v", err)
	}
	return b.String()
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestTutorialSummaries builds the tutorial's four models in the
// notebook's order and checks each summary against the SHA-256 of Keras's
// output (keras-parity.md §5) and the names against §4.
func TestTutorialSummaries(t *testing.T) {
	ResetNames()
	defer ResetNames()

	dense1 := Dense(100, "sigmoid", InputShape(784))
	dense2 := Dense(10, "softmax")
	m1 := NewSequential("", dense1, dense2)
	m2 := NewSequential("패션 MNIST 모델",
		Dense(100, "sigmoid", InputShape(784), Name("hidden")),
		Dense(10, "softmax", Name("output")))
	m3 := NewSequential("")
	mustAdd(t, m3, Dense(100, "sigmoid", InputShape(784)))
	mustAdd(t, m3, Dense(10, "softmax"))
	m4 := NewSequential("")
	mustAdd(t, m4, Flatten(InputShape(28, 28)))
	mustAdd(t, m4, Dense(100, "relu"))
	mustAdd(t, m4, Dense(10, "softmax"))

	for _, c := range []struct {
		m     *Sequential
		name  string
		names []string
		sum   string
	}{
		{m1, "sequential", []string{"dense", "dense_1"}, "4fcac1bfe45cbe340fd73e9f6f05813707914341034b09d18f0d3d837493d330"},
		{m2, "패션 MNIST 모델", []string{"hidden", "output"}, "fa20ed71c86f8552076fcd5d025d3a9ad9f3e57f3c727c001ea9437159e51cbf"},
		{m3, "sequential_1", []string{"dense_2", "dense_3"}, "077fb40c03328c306557afb370084d0fe894b53cff29db62bcc38e96e365766f"},
		{m4, "sequential_2", []string{"flatten", "dense_4", "dense_5"}, "a6e520fa241fa34f8c838fcfc9ba1863db97ca44916e9d44ce8885b75763ac36"},
	} {
		if c.m.Name() != c.name {
			t.Errorf("model name %q, want %q", c.m.Name(), c.name)
		}
		var got []string
		for _, l := range c.m.Layers() {
			got = append(got, l.Name())
		}
		if strings.Join(got, ",") != strings.Join(c.names, ",") {
			t.Errorf("%s: layer names %v, want %v", c.name, got, c.names)
		}
		text := summaryText(t, c.m)
		if h := sha(text); h != c.sum {
			t.Errorf("%s: summary sha256 %s, want %s; text:\n%s", c.name, h, c.sum, text)
		}
	}
}

// TestSummaryLayout checks the fourth summary line by line as the spec
// prints it, so that a failure shows where the layout is off.
func TestSummaryLayout(t *testing.T) {
	ResetNames()
	defer ResetNames()
	for range 2 {
		NewSequential("") // sequential, sequential_1
	}
	for range 4 {
		Dense(1, "") // dense … dense_3
	}
	m := NewSequential("")
	mustAdd(t, m, Flatten(InputShape(28, 28)))
	mustAdd(t, m, Dense(100, "relu"))
	mustAdd(t, m, Dense(10, "softmax"))
	pad := func(s string) string { return s + strings.Repeat(" ", 65-len(s)) }
	want := strings.Join([]string{
		`Model: "sequential_2"`,
		strings.Repeat("_", 65),
		pad(" Layer (type)                Output Shape              Param #"),
		strings.Repeat("=", 65),
		pad(" flatten (Flatten)           (None, 784)               0"),
		pad(""),
		pad(" dense_4 (Dense)             (None, 100)               78500"),
		pad(""),
		pad(" dense_5 (Dense)             (None, 10)                1010"),
		pad(""),
		strings.Repeat("=", 65),
		"Total params: 79510 (310.59 KB)",
		"Trainable params: 79510 (310.59 KB)",
		"Non-trainable params: 0 (0.00 Byte)",
		strings.Repeat("_", 65),
	}, "\n") + "\n"
	if got := summaryText(t, m); got != want {
		t.Errorf("summary:\n%q\nwant\n%q", got, want)
	}
}

// TestSummaryWrap checks Keras's wrapping of a cell longer than its column
// and that widths count characters: a 30-character Korean name wraps at 26
// characters, not at 26 bytes.
func TestSummaryWrap(t *testing.T) {
	name := strings.Repeat("가", 30)
	m := NewSequential("wrap", Dense(3, "softmax", InputShape(2), Name(name)))
	lines := strings.Split(summaryText(t, m), "\n")
	row1 := " " + strings.Repeat("가", 26) + "  " + "(None, 3)" + strings.Repeat(" ", 55-29-9) + "9" + strings.Repeat(" ", 9)
	row2 := " " + strings.Repeat("가", 4) + " (Dense)" + strings.Repeat(" ", 29-13)
	row2 += strings.Repeat(" ", 65-29)
	if lines[4] != row1 || lines[5] != row2 {
		t.Errorf("wrapped rows\n%q\n%q\nwant\n%q\n%q", lines[4], lines[5], row1, row2)
	}
}

func TestReadableSize(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{{0, "0.00 Byte"}, {1023, "1023.00 Byte"}, {1024, "1.00 KB"}, {318040, "310.59 KB"}, {1048576, "1.00 MB"}} {
		if got := readableSize(c.in); got != c.want {
			t.Errorf("readableSize(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSummaryNotBuilt(t *testing.T) {
	m := NewSequential("")
	mustAdd(t, m, Flatten())
	mustAdd(t, m, Dense(10, "softmax"))
	var b strings.Builder
	err := m.Summary(&b)
	if !errors.Is(err, ErrNotBuilt) || !strings.HasPrefix(err.Error(), "This model has not yet been built.") {
		t.Fatalf("Summary of an unbuilt model: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("Summary wrote %q before failing", b.String())
	}
	if err := m.Build(28, 28); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summaryText(t, m), "(None, 784)") {
		t.Error("built model's summary lacks the Flatten shape")
	}
}

func mustAdd(t *testing.T, m *Sequential, l *Layer) {
	t.Helper()
	if err := m.Add(l); err != nil {
		t.Fatalf("Add: %v", err)
	}
}
