package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixture = "testdata/peers.txt"

func runTable(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cells parses a Markdown table into row → column → cell text.
func cells(t *testing.T, md string) map[string]map[string]string {
	t.Helper()
	var cols []string
	got := map[string]map[string]string{}
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		f := strings.Split(strings.Trim(line, "|"), "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if cols == nil {
			cols = f[1:]
			continue
		}
		got[f[0]] = map[string]string{}
		for i, c := range f[1:] {
			got[f[0]][cols[i]] = c
		}
	}
	if cols == nil {
		t.Fatalf("no table in:\n%s", md)
	}
	return got
}

func TestTable(t *testing.T) {
	code, out, errOut := runTable(t, fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := cells(t, out)
	// The fixture's medians worked by hand: generic's six times have
	// median 402.5 µs and range 390–420 µs (+4.3%, −3.1%); avx512's
	// 20.75 µs and 19–22 µs (−8.4%). With fewer than six runs the
	// interval is unbounded, as benchstat's. Ratios are to avx512, the
	// best level present.
	want := map[string]map[string]string{
		"Sgemm/m=32,n=100,k=784": {
			"generic":          "402 µs ±4% ×19",
			"avx512":           "20.8 µs ±8% ×1.00",
			"avx512 threads=2": "12 µs ±∞ ×0.58",
			"openblas-haswell": "61 µs ±∞ ×2.94",
			"torch-cooperlake": "33 µs ±∞ ×1.59",
			"numpy-cooperlake": "—",
		},
		// threads=1 and no threads key are one column.
		"EpochThreads/batch=256": {
			"generic":          "—",
			"avx512":           "105 ms ±∞ ×1.00",
			"avx512 threads=2": "62 ms ±∞ ×0.59",
			"numpy-cooperlake": "315 ms ±∞ ×3.00",
		},
	}
	for row, cols := range want {
		for col, w := range cols {
			// %.3g rounds 402.5 to even, either spelling is the median.
			if g := c[row][col]; g != w && !(w == "402 µs ±4% ×19" && g == "403 µs ±4% ×19") {
				t.Errorf("%s / %s: %q, want %q", row, col, g, w)
			}
		}
	}
	if len(c) != 2 {
		t.Errorf("%d rows, want 2:\n%s", len(c), out)
	}
	for _, w := range []string{"Fixture CPU 9000", "OpenBLAS cores: Haswell, Cooperlake", "PyTorch 1.13.1", "numpy 1.24.2", "simdmlp kernels: generic avx2 avx512", "ONNX Runtime 1.30.0", "GoMLX v0.28.2, compute v0.1.3 (its pure-Go backend", "relative to avx512"} {
		if !strings.Contains(out, w) {
			t.Errorf("header lacks %q:\n%s", w, out)
		}
	}
}

func TestTableBaseAndUnit(t *testing.T) {
	code, out, errOut := runTable(t, "-base", "openblas-haswell", "-unit", "GFLOP/s", fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := cells(t, out)
	// GFLOP/s medians: avx512 (239+245)/2 = 242 within 228–264 (+9.1%),
	// openblas 8.2; as time,
	// avx512 takes 8.2/242 of OpenBLAS's.
	if g := c["Sgemm/m=32,n=100,k=784"]["avx512"]; g != "242 GFLOP/s ±9% ×0.03" {
		t.Errorf("avx512 against OpenBLAS in GFLOP/s: %q", g)
	}
	if _, ok := c["EpochThreads/batch=256"]; ok {
		t.Errorf("epoch row has no GFLOP/s but is in the table:\n%s", out)
	}
}

func TestFilesAndPNG(t *testing.T) {
	dir := t.TempDir()
	md, pic := filepath.Join(dir, "t.md"), filepath.Join(dir, "t.png")
	if code, _, errOut := runTable(t, "-o", md, "-png", pic, fixture); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	text, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(text), "| Sgemm/m=32,n=100,k=784 |") {
		t.Fatalf("markdown file: %v\n%s", err, text)
	}
	f, err := os.Open(pic)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("bench PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("PNG of %v", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want the two outputs only", len(entries))
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "t.md")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "exactly one results file"},
		{[]string{"-base", "mkl", "-o", out, fixture}, `base column "mkl"`},
		{[]string{"-unit", "furlongs/op", "-o", out, fixture}, "no results in unit furlongs/op"},
		{[]string{filepath.Join(dir, "none.txt")}, "no such file"},
	} {
		code, _, errOut := runTable(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("peertable %q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed runs left %d files behind", len(entries))
	}
}
