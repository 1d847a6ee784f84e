package mnist

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// synth is a small synthetic data set: its four IDX files' contents.
type synth struct {
	raw [4][]byte // decompressed IDX files, in setSpec.files order
	n   [2]int    // train and test counts
}

const synthRows, synthCols = 4, 3

// newSynth makes a set whose pixels and labels depend on seed, so two sets
// with different seeds have different pins.
func newSynth(nTrain, nTest int, seed byte) *synth {
	s := &synth{n: [2]int{nTrain, nTest}}
	for k, n := range s.n {
		img := make([]byte, n*synthRows*synthCols)
		for i := range img {
			img[i] = byte(i*7) + seed
		}
		lab := make([]byte, n)
		for i := range lab {
			lab[i] = byte(i+int(seed)) % 10
		}
		s.raw[2*k] = idxBytes([]int{n, synthRows, synthCols}, img)
		s.raw[2*k+1] = idxBytes([]int{n}, lab)
	}
	return s
}

// spec returns a copy of base describing s, pinned to s's contents.
func (s *synth) spec(base *setSpec, pinned bool) *setSpec {
	c := *base
	c.files = base.files
	for i := range c.files {
		n := s.n[i/2]
		if i%2 == 0 {
			c.files[i].dims = []int{n, synthRows, synthCols}
		} else {
			c.files[i].dims = []int{n}
		}
		c.files[i].sha256 = ""
		if pinned {
			c.files[i].sha256 = sha(s.raw[i])
		}
	}
	return &c
}

// write puts the set's files into dir, gzipped or raw.
func (s *synth) write(t testing.TB, dir string, gz bool) {
	t.Helper()
	for i, f := range fashion.files {
		if gz {
			writeFile(t, filepath.Join(dir, f.name+".gz"), gzipBytes(t, s.raw[i]))
		} else {
			writeFile(t, filepath.Join(dir, f.name), s.raw[i])
		}
	}
}

// npyBytes encodes a .npy v1.0 file the way NumPy does (header padded with
// spaces to a multiple of 64, ending in a newline).
func npyBytes(shape []int, data []byte) []byte {
	st := "("
	for i, d := range shape {
		if i > 0 {
			st += ", "
		}
		st += fmt.Sprint(d)
	}
	if len(shape) == 1 {
		st += ","
	}
	st += ")"
	return npyWithHeader(fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': %s, }", st), data)
}

func npyWithHeader(dict string, data []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	b = append(b, h...)
	return append(b, data...)
}

type npzMember struct {
	name string
	body []byte
}

func npzBytes(t testing.TB, method uint16, members ...npzMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npz returns s as a Keras-style mnist.npz.
func (s *synth) npz(t testing.TB, method uint16) []byte {
	var ms []npzMember
	for i, name := range []string{"x_train", "y_train", "x_test", "y_test"} {
		dims := []int{s.n[i/2]}
		if i%2 == 0 {
			dims = append(dims, synthRows, synthCols)
		}
		ms = append(ms, npzMember{name + ".npy", npyBytes(dims, s.raw[i][4+4*len(dims):])})
	}
	return npzBytes(t, method, ms...)
}

// isolate points every searched location at fresh temporary directories,
// installs the given specs, and returns the root those directories live in.
// Tests that call it must not run in parallel: the specs are package state.
func isolate(t *testing.T, f, d *setSpec) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv(EnvDataDir, "")
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "cache"))
	oldF, oldD := fashion, digits
	t.Cleanup(func() { fashion, digits = oldF, oldD })
	if f != nil {
		f.system = []string{filepath.Join(root, "system")}
		fashion = f
	}
	if d != nil {
		digits = d
	}
	return root
}
