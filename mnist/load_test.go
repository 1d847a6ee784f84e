package mnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/heap"
)

const debianFashion = "/usr/share/datasets/fashion-mnist"

// The pins are checked against the Debian package's files with nothing but
// the standard library's gunzip, independently of ReadIDX.
func TestFashionPinsMatchDebian(t *testing.T) {
	if _, err := os.Stat(debianFashion); err != nil {
		t.Skipf("%s is absent (apt-get install dataset-fashion-mnist provides it): %v", debianFashion, err)
	}
	for _, f := range fashion.files {
		file, err := os.Open(filepath.Join(debianFashion, f.name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(file)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, zr); err != nil {
			t.Fatal(err)
		}
		file.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
			t.Errorf("%s: decompressed SHA-256 %s, pinned %s", f.name, got, f.sha256)
		}
	}
}

func TestLoadFashionDebian(t *testing.T) {
	if _, err := os.Stat(debianFashion); err != nil {
		t.Skipf("%s is absent (apt-get install dataset-fashion-mnist provides it): %v", debianFashion, err)
	}
	train, test, err := LoadFashion(debianFashion)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d       *Dataset
		n, each int
	}{{train, 60000, 6000}, {test, 10000, 1000}} {
		if c.d.N != c.n || c.d.Rows != 28 || c.d.Cols != 28 || len(c.d.Images) != c.n*784 || len(c.d.Labels) != c.n {
			t.Fatalf("shape %d×%d×%d, %d images, %d labels", c.d.N, c.d.Rows, c.d.Cols, len(c.d.Images), len(c.d.Labels))
		}
		// Fashion-MNIST is balanced: every class has the same count.
		var counts [10]int
		for _, l := range c.d.Labels {
			counts[l]++
		}
		for k, n := range counts {
			if n != c.each {
				t.Errorf("N=%d: class %d has %d examples, want %d", c.n, k, n, c.each)
			}
		}
	}
	// The first training labels Keras returns.
	if got := train.Labels[:5]; got[0] != 9 || got[1] != 0 || got[2] != 0 || got[3] != 3 || got[4] != 0 {
		t.Errorf("train labels start %v, want [9 0 0 3 0]", got)
	}
}

// The Debian files, put where classic MNIST is looked for, are recognised
// as Fashion-MNIST rather than loaded as digits.
func TestLoadDigitsRejectsFashion(t *testing.T) {
	if _, err := os.Stat(debianFashion); err != nil {
		t.Skipf("%s is absent (apt-get install dataset-fashion-mnist provides it): %v", debianFashion, err)
	}
	isolate(t, nil, nil)
	t.Setenv(EnvDataDir, debianFashion)
	_, _, err := LoadDigitsWith(Options{NoDownload: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "this is Fashion-MNIST's") ||
		!strings.Contains(err.Error(), debianFashion) {
		t.Fatalf("err = %v", err)
	}
}

// labelOf identifies which synthetic set was loaded: newSynth(…, seed)
// gives the first training label seed%10.
func labelOf(t *testing.T, d *Dataset, err error) int32 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return d.Labels[0]
}

func TestLoadFashionSearchOrder(t *testing.T) {
	s := newSynth(7, 3, 0)
	root := isolate(t, s.spec(fashion, false), nil)
	dirs := []string{
		filepath.Join(root, "system"),
		filepath.Join(root, "home", ".keras", "datasets", "fashion-mnist"),
		filepath.Join(root, "cache", "simdmlp", "fashion-mnist"),
	}
	for i, d := range dirs {
		newSynth(7, 3, byte(i+1)).write(t, d, i%2 == 0)
	}
	opts := Options{NoDownload: true}
	// $SIMDMLP_DATA comes before all of them.
	env := filepath.Join(root, "env")
	newSynth(7, 3, 9).write(t, env, false)
	t.Setenv(EnvDataDir, env)
	train, _, err := LoadFashionWith(opts)
	if got := labelOf(t, train, err); got != 9 {
		t.Fatalf("with $%s set, loaded the set from directory %d, want $%s's", EnvDataDir, got-1, EnvDataDir)
	}
	t.Setenv(EnvDataDir, "")
	for i := range dirs {
		train, _, err := LoadFashionWith(opts)
		if got := labelOf(t, train, err); got != int32(i+1) {
			t.Fatalf("with %d directories removed, loaded the set from directory %d, want %d", i, got-1, i)
		}
		if err := os.RemoveAll(dirs[i]); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = LoadFashionWith(opts)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("nothing left: %v", err)
	}
	msg := err.Error()
	for _, want := range append(dirs, "no such directory", "apt-get install dataset-fashion-mnist", "$"+EnvDataDir+" (unset)") {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Searched) != 4 || nf.Download != nil {
		t.Errorf("NotFoundError = %+v", nf)
	}
}

func TestLoadFashionContent(t *testing.T) {
	s := newSynth(7, 3, 4)
	root := isolate(t, s.spec(fashion, true), nil)
	for _, gz := range []bool{false, true} {
		dir := filepath.Join(root, "data", map[bool]string{false: "raw", true: "gz"}[gz])
		s.write(t, dir, gz)
		train, test, err := LoadFashion(dir)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if train.N != 7 || test.N != 3 || train.Rows != synthRows || train.Cols != synthCols ||
			!bytes.Equal(train.Images, s.raw[0][16:]) || !bytes.Equal(test.Images, s.raw[2][16:]) {
			t.Fatalf("gz=%v: got train %+v test %+v", gz, train, test)
		}
		for i, l := range test.Labels {
			if byte(l) != s.raw[3][8+i] {
				t.Fatalf("gz=%v: test label %d = %d, want %d", gz, i, l, s.raw[3][8+i])
			}
		}
	}
}

func TestLoadFashionExplicitDir(t *testing.T) {
	s := newSynth(7, 3, 0)
	root := isolate(t, s.spec(fashion, true), nil)
	// Files elsewhere must not be used when a directory is given.
	s.write(t, filepath.Join(root, "system"), true)
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	_, _, err := LoadFashion(empty)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), empty+" (no data files)") ||
		!strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
		t.Fatalf("empty dir: %v", err)
	}
	partial := filepath.Join(root, "partial")
	writeFile(t, filepath.Join(partial, "train-images-idx3-ubyte"), s.raw[0])
	_, _, err = LoadFashion(partial)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "incomplete: lacks train-labels-idx1-ubyte[.gz]") {
		t.Fatalf("partial dir: %v", err)
	}
}

// A directory that holds the files but fails verification ends the search
// with an error naming the file: it is not skipped for a later directory,
// nor downloaded over.
func TestLoadFashionBadDirIsAnError(t *testing.T) {
	good := newSynth(7, 3, 0)
	other := newSynth(7, 3, 5)
	root := isolate(t, good.spec(fashion, true), nil)
	good.write(t, filepath.Join(root, "system"), true)
	bad := filepath.Join(root, "env")
	t.Setenv(EnvDataDir, bad)

	check := func(name, wantFile, want string) {
		t.Helper()
		_, _, err := LoadFashionWith(Options{BaseURL: "http://127.0.0.1:1/", Progress: io.Discard})
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %v, want ErrCorrupt only", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, filepath.Join(bad, wantFile)) || !strings.Contains(msg, want) ||
			!strings.Contains(msg, "replace the file") {
			t.Errorf("%s: message %q should name %s and say %q", name, msg, wantFile, want)
		}
	}

	// A different data set under the same names (as classic MNIST would be).
	other.write(t, bad, true)
	check("foreign", "train-images-idx3-ubyte.gz", "SHA-256 of the decompressed content is "+sha(other.raw[0]))

	// A damaged gzip file.
	good.write(t, bad, true)
	gz := gzipBytes(t, good.raw[3])
	gz[len(gz)-6] ^= 1
	writeFile(t, filepath.Join(bad, "t10k-labels-idx1-ubyte.gz"), gz)
	check("damaged", "t10k-labels-idx1-ubyte.gz", "checksum")

	// A truncated raw file next to good gzipped ones.
	os.Remove(filepath.Join(bad, "t10k-labels-idx1-ubyte.gz"))
	writeFile(t, filepath.Join(bad, "t10k-labels-idx1-ubyte"), good.raw[3][:len(good.raw[3])-1])
	check("truncated", "t10k-labels-idx1-ubyte", "truncated")

	// Right format, wrong shape.
	os.Remove(filepath.Join(bad, "t10k-labels-idx1-ubyte"))
	writeFile(t, filepath.Join(bad, "t10k-labels-idx1-ubyte.gz"), gzipBytes(t, idxBytes([]int{4}, []byte{1, 2, 3, 4})))
	check("shape", "t10k-labels-idx1-ubyte.gz", "has shape [4], want [3]")
}

// What a damaged file's message says to do must be true where the file is:
// deleting it brings a fresh copy only where the next load would download
// one, never in a directory the user named (those are never downloaded
// into), nor with NoDownload.
func TestLoadCorruptRemedy(t *testing.T) {
	good := newSynth(7, 3, 0)
	root := isolate(t, good.spec(fashion, true), nil)
	srv := newServer(t, fashionFiles(t, good))
	damage := func(dir string) {
		t.Helper()
		good.write(t, dir, true)
		writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), []byte("\x1f\x8b damaged"))
	}
	const (
		replace  = "; replace the file with a good copy"
		fromNext = "; replace the file with a good copy, or delete it so that another copy is used or a fresh one downloaded"
		fresh    = "; replace the file with a good copy, or delete it so that a fresh one is downloaded"
	)
	given := filepath.Join(root, "given")
	damage(given)
	env := filepath.Join(root, "env")
	damage(env)
	keras := filepath.Join(root, "home", ".keras", "datasets", "fashion-mnist")
	damage(keras)
	cache := filepath.Join(root, "cache", "simdmlp", "fashion-mnist")
	withServer := Options{BaseURL: srv.url(), Progress: io.Discard}
	for _, tc := range []struct {
		name, env string
		opts      Options
		file      string
		want      string
	}{
		{"given directory", "", Options{Dir: given}, given, replace},
		{"given directory, download allowed", "", Options{Dir: given, BaseURL: srv.url()}, given, replace},
		{"$" + EnvDataDir, env, withServer, env, replace},
		{"Keras's directory, NoDownload", "", Options{NoDownload: true}, keras, replace},
		{"Keras's directory", "", withServer, keras, fromNext},
	} {
		t.Setenv(EnvDataDir, tc.env)
		_, _, err := LoadFashionWith(tc.opts)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.File != filepath.Join(tc.file, "t10k-labels-idx1-ubyte.gz") || !strings.HasSuffix(ce.Fault, tc.want) {
			t.Errorf("%s: err = %v, want it to end %q", tc.name, err, tc.want)
		}
	}
	if got := srv.requests(); len(got) != 0 {
		t.Fatalf("requests %v: no load above may download", got)
	}

	// The download directory: deleting the file does bring a fresh one,
	// unless downloads are off.
	t.Setenv(EnvDataDir, "")
	if err := os.RemoveAll(keras); err != nil {
		t.Fatal(err)
	}
	damage(cache)
	_, _, err := LoadFashionWith(Options{NoDownload: true})
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.HasSuffix(ce.Fault, replace) {
		t.Errorf("cache, NoDownload: err = %v, want it to end %q", err, replace)
	}
	_, _, err = LoadFashionWith(withServer)
	if !errors.As(err, &ce) || !strings.HasSuffix(ce.Fault, fresh) {
		t.Fatalf("cache: err = %v, want it to end %q", err, fresh)
	}
	if err := os.Remove(ce.File); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFashionWith(withServer); err != nil {
		t.Fatalf("after deleting %s as told: %v", ce.File, err)
	}
	if got := srv.requests(); len(got) != 1 || got[0] != "t10k-labels-idx1-ubyte.gz" {
		t.Errorf("requests %v, want the deleted file downloaded", got)
	}

	// mnist.npz in a given directory: no download promised either.
	s := newSynth(6, 2, 3)
	spec := s.spec(digits, false)
	spec.npzSHA256 = sha(s.npz(t, 8))
	isolate(t, nil, spec)
	dir := filepath.Join(root, "npz")
	writeFile(t, filepath.Join(dir, "mnist.npz"), newSynth(6, 2, 4).npz(t, 8))
	_, _, err = LoadDigits(dir)
	if !errors.As(err, &ce) || !strings.Contains(ce.Fault, "Keras's pin") || !strings.HasSuffix(ce.Fault, replace) {
		t.Errorf("npz in a given directory: err = %v, want it to end %q", err, replace)
	}
}

// The expected shape of each file is known before it is read, so a header
// that claims another is rejected before any data is decompressed, and a
// file that holds more than its shape is not decompressed past one byte
// beyond it: a small gzip file expanding to many megabytes costs nothing.
// Both the loaders and the download's verification read this way.
func TestLoadChecksHeaderBeforeData(t *testing.T) {
	const big = 4 << 20 // zeros, about 4 KB once gzipped
	good := newSynth(7, 3, 0)
	bombs := []struct {
		name string
		file []byte
		want string
	}{
		{"claims more", gzipBytes(t, idxBytes([]int{big}, make([]byte, big))), "has shape [4194304], want [7] for "},
		{"holds more", gzipBytes(t, idxBytes([]int{7}, make([]byte, big))), "trailing data after the 7 expected bytes"},
	}
	// Well below the 4 MiB the bombs hold; the synthetic set is tiny.
	const limit = 1 << 20
	for _, set := range []*setSpec{fashion, digits} {
		for _, b := range bombs {
			spec := good.spec(set, true)
			dir := filepath.Join(t.TempDir(), "data")
			good.write(t, dir, true)
			path := filepath.Join(dir, "train-labels-idx1-ubyte.gz")
			writeFile(t, path, b.file)
			var err error
			n := heap.Allocated(func() { _, _, err = load(spec, Options{Dir: dir}) })
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != path || !strings.Contains(ce.Fault, b.want) {
				t.Errorf("%s, %s: err = %v, want %q", spec.title, b.name, err, b.want)
			}
			if n > limit {
				t.Errorf("%s, %s: allocated %d bytes reading a %d-byte file", spec.title, b.name, n, len(b.file))
			}
		}
	}

	// The same files from a server are rejected as cheaply.
	for _, b := range bombs {
		isolate(t, good.spec(fashion, true), nil)
		files := fashionFiles(t, good)
		files["train-labels-idx1-ubyte.gz"] = b.file
		srv := newServer(t, files)
		cache := filepath.Join(t.TempDir(), "c")
		var err error
		n := heap.Allocated(func() {
			_, _, err = LoadFashionWith(Options{BaseURL: srv.url(), CacheDir: cache, Progress: io.Discard})
		})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "download rejected") || !strings.Contains(err.Error(), b.want) {
			t.Errorf("download, %s: err = %v, want %q", b.name, err, b.want)
		}
		if n > limit {
			t.Errorf("download, %s: allocated %d bytes for a %d-byte file", b.name, n, len(b.file))
		}
	}
}

// A pinned mnist.npz is checked against its pin before it is read into
// memory, so a large wrong file costs no memory.
func TestLoadDigitsLargeNPZ(t *testing.T) {
	s := newSynth(6, 2, 3)
	spec := s.spec(digits, false)
	spec.npzSHA256 = sha(s.npz(t, 8))
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "mnist.npz"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse where the file system allows: 64 MiB of zeros.
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n := heap.Allocated(func() { _, _, err = load(spec, Options{Dir: dir}) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "Keras's pin") {
		t.Fatalf("err = %v, want the pin's mismatch", err)
	}
	if n > 1<<20 {
		t.Errorf("allocated %d bytes to reject a 64 MiB file by its SHA-256", n)
	}
}

func TestLoadFashionBadLabel(t *testing.T) {
	s := newSynth(7, 3, 0)
	s.raw[1][8+2] = 10 // a pinned file can still be wrong
	root := isolate(t, s.spec(fashion, true), nil)
	s.write(t, filepath.Join(root, "system"), false)
	_, _, err := LoadFashionWith(Options{NoDownload: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "label 10 at index 2") ||
		!strings.Contains(err.Error(), "train-labels-idx1-ubyte") {
		t.Fatalf("err = %v", err)
	}
}

// An incomplete directory is passed over, and says so if nothing is found.
// A damaged file from the OS package calls for reinstalling the package.
func TestLoadFashionSystemAdvice(t *testing.T) {
	s := newSynth(7, 3, 0)
	root := isolate(t, s.spec(fashion, true), nil)
	dir := filepath.Join(root, "system")
	s.write(t, dir, true)
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), []byte("\x1f\x8b damaged"))
	_, _, err := LoadFashionWith(Options{NoDownload: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "sudo apt-get install --reinstall dataset-fashion-mnist") {
		t.Fatalf("err = %v", err)
	}
}

// A searched directory that lacks a file is passed over, and says so if
// nothing is found.
func TestLoadFashionSkipsIncomplete(t *testing.T) {
	s := newSynth(7, 3, 0)
	root := isolate(t, s.spec(fashion, true), nil)
	system := filepath.Join(root, "system")
	writeFile(t, filepath.Join(system, "train-labels-idx1-ubyte.gz"), gzipBytes(t, s.raw[1]))
	_, _, err := LoadFashionWith(Options{NoDownload: true})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), system+" (incomplete: lacks train-images-idx3-ubyte[.gz], t10k-images") {
		t.Fatalf("err = %v", err)
	}
	s.write(t, filepath.Join(root, "home", ".keras", "datasets", "fashion-mnist"), true)
	if _, _, err := LoadFashionWith(Options{NoDownload: true}); err != nil {
		t.Fatal(err)
	}
}

// $SIMDMLP_DATA is a location the user chose: it is used if it holds the
// set, and otherwise is an error naming it and what it lacks, never a
// reason to load another copy or to download one.
func TestLoadEnvDirIsExplicit(t *testing.T) {
	s := newSynth(7, 3, 0)
	root := isolate(t, s.spec(fashion, true), nil)
	// Good copies everywhere else, and a server that would serve one.
	s.write(t, filepath.Join(root, "system"), true)
	s.write(t, filepath.Join(root, "home", ".keras", "datasets", "fashion-mnist"), true)
	srv := newServer(t, fashionFiles(t, s))
	opts := Options{BaseURL: srv.url(), Progress: io.Discard}

	incomplete := filepath.Join(root, "incomplete")
	writeFile(t, filepath.Join(incomplete, "train-labels-idx1-ubyte.gz"), gzipBytes(t, s.raw[1]))
	empty := filepath.Join(root, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "a-file")
	writeFile(t, file, []byte("x"))
	for _, tc := range []struct{ dir, want string }{
		{incomplete, " (incomplete: lacks train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])"},
		{filepath.Join(root, "missing"), " (no such directory)"},
		{empty, " (no data files)"},
		{file, " (not a directory)"},
	} {
		t.Setenv(EnvDataDir, tc.dir)
		_, _, err := LoadFashionWith(opts)
		if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrNotFound", tc.dir, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "$"+EnvDataDir+"="+tc.dir+tc.want) ||
			!strings.Contains(msg, "While $"+EnvDataDir+" is set it is the only directory looked in") {
			t.Errorf("message %q should name $%s=%s and say%s", msg, EnvDataDir, tc.dir, tc.want)
		}
		if strings.Contains(msg, filepath.Join(root, "system")) || strings.Contains(msg, ".keras") {
			t.Errorf("message %q lists other places, which were not to be searched", msg)
		}
		var nf *NotFoundError
		if errors.As(err, &nf) && (len(nf.Searched) != 1 || nf.Download != nil) {
			t.Errorf("%s: NotFoundError %+v, want one place searched and no download", tc.dir, nf)
		}
	}
	if got := srv.requests(); len(got) != 0 {
		t.Errorf("requests %v: nothing may be downloaded while $%s is set", got, EnvDataDir)
	}
	// LoadDigits treats it the same way, though mnist.npz is in Keras's
	// directory.
	t.Setenv(EnvDataDir, incomplete)
	writeFile(t, filepath.Join(root, "home", ".keras", "datasets", "mnist.npz"), s.npz(t, 8))
	if _, _, err := LoadDigitsWith(Options{NoDownload: true}); !errors.Is(err, ErrNotFound) ||
		!strings.Contains(err.Error(), "$"+EnvDataDir+"="+incomplete+" (incomplete") {
		t.Errorf("LoadDigits: err = %v", err)
	}

	// Complete, it is used; a directory given in the call comes first.
	// (Unpinned, so that other sets load; isolate restores the spec.)
	other := newSynth(7, 3, 6)
	fashion = other.spec(fashion, false)
	envDir := filepath.Join(root, "env")
	other.write(t, envDir, false)
	t.Setenv(EnvDataDir, envDir)
	train, _, err := LoadFashionWith(opts)
	if got := labelOf(t, train, err); got != 6 {
		t.Errorf("loaded first label %d, want 6 (the set in $%s)", got, EnvDataDir)
	}
	given := filepath.Join(root, "given")
	newSynth(7, 3, 7).write(t, given, true)
	t.Setenv(EnvDataDir, incomplete)
	train, _, err = LoadFashion(given)
	if got := labelOf(t, train, err); got != 7 {
		t.Errorf("loaded first label %d, want 7 (the directory given)", got)
	}
}

func TestLoadDigits(t *testing.T) {
	s := newSynth(6, 2, 3)
	for _, method := range []uint16{0, 8} { // stored, deflated
		npz := s.npz(t, method)
		spec := s.spec(digits, false)
		spec.npzSHA256 = sha(npz)
		root := isolate(t, nil, spec)

		// Keras's own place for it.
		writeFile(t, filepath.Join(root, "home", ".keras", "datasets", "mnist.npz"), npz)
		train, test, err := LoadDigitsWith(Options{NoDownload: true})
		if err != nil {
			t.Fatalf("method %d: %v", method, err)
		}
		if train.N != 6 || test.N != 2 || !bytes.Equal(train.Images, s.raw[0][16:]) || !bytes.Equal(test.Images, s.raw[2][16:]) ||
			train.Labels[0] != 3 || test.Labels[1] != 4 {
			t.Fatalf("method %d: train %+v test %+v", method, train, test)
		}

		// A file that is not Keras's fails the pin.
		other := newSynth(6, 2, 4).npz(t, method)
		env := filepath.Join(root, "env")
		writeFile(t, filepath.Join(env, "mnist.npz"), other)
		t.Setenv(EnvDataDir, env)
		_, _, err = LoadDigitsWith(Options{NoDownload: true})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), filepath.Join(env, "mnist.npz")) ||
			!strings.Contains(err.Error(), "Keras's pin") {
			t.Fatalf("method %d, foreign npz: %v", method, err)
		}
	}
}

func TestLoadDigitsIDX(t *testing.T) {
	s := newSynth(6, 2, 3)
	npzSet := newSynth(6, 2, 8)
	npz := npzSet.npz(t, 8)
	spec := s.spec(digits, false)
	spec.npzSHA256 = sha(npz)
	root := isolate(t, nil, spec)
	dir := filepath.Join(root, "d")
	s.write(t, dir, true)
	train, _, err := LoadDigits(dir)
	if got := labelOf(t, train, err); got != 3 {
		t.Fatalf("IDX: first label %d, want 3", got)
	}
	// With both forms present, the pinned npz wins.
	writeFile(t, filepath.Join(dir, "mnist.npz"), npz)
	train, _, err = LoadDigits(dir)
	if got := labelOf(t, train, err); got != 8 {
		t.Fatalf("npz and IDX: first label %d, want 8 (the npz)", got)
	}
	os.Remove(filepath.Join(dir, "mnist.npz"))

	// Sizes are checked, as no pin exists for these files.
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gzipBytes(t, idxBytes([]int{6, 4, 4}, make([]byte, 96))))
	_, _, err = LoadDigits(dir)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "has shape [6 4 4], want [6 4 3]") {
		t.Fatalf("wrong shape: %v", err)
	}

	// Files known to be another set's are named as such.
	s.write(t, dir, true)
	spec.foreign = map[string]string{sha(s.raw[2]): "Fashion-MNIST's t10k-images-idx3-ubyte"}
	_, _, err = LoadDigits(dir)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "this is Fashion-MNIST's t10k-images-idx3-ubyte, not MNIST") {
		t.Fatalf("foreign: %v", err)
	}
}

func TestLoadDigitsNotFound(t *testing.T) {
	root := isolate(t, nil, nil)
	_, _, err := LoadDigitsWith(Options{NoDownload: true})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"no Debian package for classic MNIST", "mnist.npz", EnvDataDir,
		filepath.Join(root, "home", ".keras", "datasets"), filepath.Join(root, "cache", "simdmlp", "mnist")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func BenchmarkLoadFashion(b *testing.B) {
	if _, err := os.Stat(debianFashion); err != nil {
		b.Skipf("%s is absent (apt-get install dataset-fashion-mnist provides it)", debianFashion)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadFashion(debianFashion); err != nil {
			b.Fatal(err)
		}
	}
}
