package mnist

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/heap"
)

// The files in testdata were written by NumPy 1.24.2 (np.savez and
// np.savez_compressed) from x_train = (arange(72)*7 % 256) as (6,4,3),
// y_train = arange(6) % 10, x_test = (arange(24)*5 % 256) as (2,4,3),
// y_test = [9, 3], all uint8.
func TestReadNPZFromNumPy(t *testing.T) {
	want := map[string]npyArray{
		"x_train": {[]int{6, 4, 3}, nil},
		"y_train": {[]int{6}, []byte{0, 1, 2, 3, 4, 5}},
		"x_test":  {[]int{2, 4, 3}, nil},
		"y_test":  {[]int{2}, []byte{9, 3}},
	}
	for i := range 72 {
		a := want["x_train"]
		a.data = append(a.data, byte(i*7%256))
		want["x_train"] = a
	}
	for i := range 24 {
		a := want["x_test"]
		a.data = append(a.data, byte(i*5%256))
		want["x_test"] = a
	}
	for _, file := range []string{"testdata/numpy-stored.npz", "testdata/numpy-compressed.npz"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readNPZ(file, b, []string{"x_train", "y_train", "x_test", "y_test"})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for name, w := range want {
			if g := got[name]; !slices.Equal(g.shape, w.shape) || !bytes.Equal(g.data, w.data) {
				t.Errorf("%s %s: got %v %v, want %v %v", file, name, g.shape, g.data, w.shape, w.data)
			}
		}
	}
}

func TestParseNPYHeader(t *testing.T) {
	good := []struct {
		h    string
		want []int
	}{
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }      \n", []int{60000, 28, 28}},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (60000,), }\n", []int{60000}},
		{"{'shape': (2, 3), 'fortran_order': False, 'descr': '|u1'}\n", []int{2, 3}},
		{`{"descr": "|u1", "fortran_order": False, "shape": (5,)}` + "\n", []int{5}},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (60000L, 28L, 28L), }\n", []int{60000, 28, 28}},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (), }\n", []int{}},
		{"{'descr':'|u1','fortran_order':False,'shape':(0,7)}\n", []int{0, 7}},
	}
	for _, tc := range good {
		got, err := parseNPYHeader(tc.h)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.h, got, err, tc.want)
		}
	}
	bad := []struct{ h, want string }{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", "'<f4' is not supported"},
		{"{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }\n", "is not supported"},
		{"{'descr': '|u1', 'fortran_order': True, 'shape': (2,), }\n", "fortran_order True"},
		{"{'descr': '|u1', 'shape': (2,), }\n", "lacks"},
		{"{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (2,)}\n", "duplicate"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", "unexpected key"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "newline"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), } x\n", "after the dict"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (2), }\n", "(n,)"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (-2,), }\n", "expected a dimension"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999,), }\n", "exceeds"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", "more than 8"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (2,\n", "expected"},
		{"{'descr': '|u1', 'fortran_order': 0, 'shape': (2,)}\n", "True or False"},
		{"{'descr: '|u1'}\n", "expected"},
		{"{'de\\x': '|u1'}\n", "quoted key"},
		{"['descr', '|u1']\n", "expected '{'"},
		{"\n", "expected '{'"},
	}
	for _, tc := range bad {
		_, err := parseNPYHeader(tc.h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.h, err, tc.want)
		}
	}
}

func TestReadNPZMalformed(t *testing.T) {
	names := []string{"a"}
	arr := npyBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	v2 := []byte("\x93NUMPY\x02\x00")
	v2 = append(v2, byte(len(arr)-10-6), 0, 0, 0)
	v2 = append(v2, arr[10:]...)
	if got, err := readNPZ("ok", npzBytes(t, zip.Deflate, npzMember{"a.npy", v2}), names); err != nil || !slices.Equal(got["a"].shape, []int{2, 3}) {
		t.Fatalf("version 2.0: %v %v", got, err)
	}
	deflated := npzBytes(t, zip.Deflate, npzMember{"a.npy", arr})
	flipped := bytes.Clone(deflated)
	flipped[40] ^= 0x55 // inside the deflate data of the only member
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"not zip", []byte("PK but not really a zip file"), "not a valid .npz"},
		{"missing member", npzBytes(t, zip.Store, npzMember{"b.npy", arr}), "no member a.npy"},
		{"duplicate member", npzBytes(t, zip.Store, npzMember{"a.npy", arr}, npzMember{"a.npy", arr}), "appears twice"},
		{"bad magic", npzBytes(t, zip.Store, npzMember{"a.npy", append([]byte("\x93NUMPX"), arr[6:]...)}), "bad magic"},
		{"version 4", npzBytes(t, zip.Store, npzMember{"a.npy", append([]byte("\x93NUMPY\x04\x00"), arr[8:]...)}), "version 4.0"},
		{"header too long", npzBytes(t, zip.Store, npzMember{"a.npy", append([]byte("\x93NUMPY\x01\x00\xff\xff"), arr[10:]...)}), "exceeds"},
		{"header cut", npzBytes(t, zip.Store, npzMember{"a.npy", arr[:30]}), "truncated"},
		{"data short", npzBytes(t, zip.Store, npzMember{"a.npy", arr[:len(arr)-1]}), "needs 6 data bytes, the member has 5"},
		{"data long", npzBytes(t, zip.Store, npzMember{"a.npy", append(bytes.Clone(arr), 0)}), "has 7"},
		{"float array", npzBytes(t, zip.Store, npzMember{"a.npy", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", []byte{0, 0, 0, 0})}), "'<f4' is not supported"},
		{"damaged deflate", flipped, "a.npy"},
	}
	for _, tc := range cases {
		_, err := readNPZ("file.npz", tc.file, names)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "file.npz") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrCorrupt naming file.npz and containing %q", tc.name, err, tc.want)
		}
	}
}

// rawNPZ builds an archive whose directory claims size uncompressed bytes
// for body, which is stored as is: a lying zip.
func rawNPZ(t *testing.T, body []byte, size uint64) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "a.npy", Method: zip.Store,
		CompressedSize64: uint64(len(body)), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	zw.Close()
	return buf.Bytes()
}

func TestReadNPZHostileSizes(t *testing.T) {
	hdr := npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000,), }", []byte{1, 2, 3})
	var err error
	n := heap.Allocated(func() { _, err = readNPZ("x.npz", rawNPZ(t, hdr, 1_000_000_000+uint64(len(hdr))-3), []string{"a"}) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "compressed bytes can hold") {
		t.Errorf("huge claim: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("huge claim: allocated %d bytes", n)
	}
	// A claim deflate could in principle meet, that the data does not.
	hdr = npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (100000,), }", bytes.Repeat([]byte{1}, 200))
	n = heap.Allocated(func() { _, err = readNPZ("x.npz", rawNPZ(t, hdr, 100000+uint64(len(hdr))-200), []string{"a"}) })
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("short member: %v", err)
	}
	t.Logf("short member: %v; %d bytes allocated", err, n)
}

func FuzzDecodeNPY(f *testing.F) {
	f.Add(npyBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(npyBytes([]int{4}, []byte{1, 2, 3, 4}))
	f.Add(npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (60000L, 28L), }", nil))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeNPY("f", bytes.NewReader(b), int64(len(b)), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		n := 1
		for _, d := range a.shape {
			n *= d
		}
		if n != len(a.data) {
			t.Fatalf("shape %v but %d bytes", a.shape, len(a.data))
		}
	})
}
