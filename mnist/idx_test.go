package mnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/heap"
)

func TestReadIDXValid(t *testing.T) {
	data := make([]byte, 5*4*3)
	for i := range data {
		data[i] = byte(i * 13)
	}
	raw := idxBytes([]int{5, 4, 3}, data)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"raw", raw},
		{"gzip", gzipBytes(t, raw)},
		// Concatenated gzip members are one valid gzip stream.
		{"gzip-multistream", append(gzipBytes(t, raw[:30]), gzipBytes(t, raw[30:])...)},
	} {
		path := filepath.Join(dir, tc.name)
		writeFile(t, path, tc.file)
		dims, got, err := ReadIDX(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(dims) != 3 || dims[0] != 5 || dims[1] != 4 || dims[2] != 3 || !bytes.Equal(got, data) {
			t.Fatalf("%s: got dims %v, data equal %v", tc.name, dims, bytes.Equal(got, data))
		}
		// An unknown size must give the same result.
		dims2, got2, err := DecodeIDX(bytes.NewReader(tc.file), -1)
		if err != nil || len(dims2) != 3 || !bytes.Equal(got2, data) {
			t.Fatalf("%s with size -1: %v %v", tc.name, dims2, err)
		}
	}
	// Zero-sized arrays are well formed.
	dims, got, err := DecodeIDX(bytes.NewReader(idxBytes([]int{0, 28}, nil)), 12)
	if err != nil || len(got) != 0 || dims[0] != 0 || dims[1] != 28 {
		t.Fatalf("empty: %v %v %v", dims, got, err)
	}
}

// dimMax encodes as the largest IDX dimension, 0xffffffff, also where int
// has 32 bits (it is then -1, which idxBytes writes the same way).
var dimMax = int(u32max)

var u32max uint32 = 0xffffffff

func TestReadIDXMalformed(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	gz := gzipBytes(t, good)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-5] ^= 0xff // inside the CRC-32 trailer
	withType := func(ty byte) []byte { b := bytes.Clone(good); b[2] = ty; return b }
	withRank := func(r byte) []byte { b := bytes.Clone(good); b[3] = r; return b }
	// want must be in the fault; unwant, when set, must not be: a file that
	// holds too much is not "truncated", nor a short one "trailing".
	cases := []struct {
		name, file, want, unwant string
	}{
		{"empty", "", "too short", ""},
		{"one byte", "\x00", "too short", ""},
		{"short header", "\x00\x00\x08", "truncated", ""},
		{"bad magic", "\x01" + string(good[1:]), "not an IDX file", ""},
		{"float32", string(withType(0x0D)), "0x0D (float32) is not supported", ""},
		{"int32", string(withType(0x0C)), "0x0C (int32) is not supported", ""},
		{"unknown type", string(withType(0x42)), "unknown element type 0x42", ""},
		{"rank 0", string(withRank(0)), "rank 0", ""},
		{"rank 200", string(withRank(200)), "rank 200", ""},
		{"dims cut", string(good[:9]), "truncated", ""},
		{"data cut", string(good[:len(good)-1]), "truncated: got 5 of 6 bytes", "trailing"},
		{"data missing", string(good[:len(good)-6]), "truncated: got 0 of 6 bytes", "trailing"},
		{"trailing", string(good) + "x", "trailing data after the 6 expected bytes", "truncated"},
		{"huge claim raw", string(idxBytes([]int{60000, 60000, 60000}, nil)), "claim more than", ""},
		{"overflowing dims", string(idxBytes([]int{dimMax, dimMax, dimMax, dimMax}, nil)), "claim more than", ""},
		{"zero dim hides huge dim", string(idxBytes([]int{0, dimMax}, nil)), "claim more than", ""},
		{"big claim raw", string(idxBytes([]int{1 << 20, 784}, []byte{1})), "truncated", ""},
		{"gzip cut", string(gz[:len(gz)-10]), "truncated", ""},
		{"gzip bad crc", string(badCRC), "checksum", ""},
		{"gzip bad header", "\x1f\x8b\x00\x00", "gzip header", ""},
		{"gzip data short", string(gzipBytes(t, good[:len(good)-2])), "truncated: got 4 of 6 bytes", "trailing"},
		{"gzip data cut", string(gz[:len(gz)-12]), "truncated: got ", "trailing"},
		{"gzip data long", string(gzipBytes(t, append(bytes.Clone(good), 9))), "trailing data after the 6 expected bytes", "truncated"},
		{"gzip data much longer", string(gzipBytes(t, append(bytes.Clone(good), make([]byte, 1<<20)...))), "trailing data after the 6 expected bytes", "truncated"},
		// Bytes after the gzip stream that are not another member, however
		// many: fewer than a gzip header, more, NUL padding, one byte.
		{"gzip garbage after", string(gz) + "garbage!", "trailing garbage after the gzip stream: the last 8 bytes", "truncated"},
		{"gzip long garbage after", string(gz) + "garbage, and more garbage", "trailing garbage after the gzip stream: the last 25 bytes", "truncated"},
		{"gzip zeros after", string(gz) + "\x00\x00\x00\x00", "trailing garbage after the gzip stream", "truncated"},
		{"gzip one byte after", string(gz) + "\n", "trailing garbage after the gzip stream", "truncated"},
		{"gzip garbage after members", string(gzipBytes(t, good[:5])) + string(gzipBytes(t, good[5:])) + "garbage!", "trailing garbage after the gzip stream", "truncated"},
		{"gzip garbage inside data", string(gzipBytes(t, good[:12])) + "garbage!", "trailing garbage after the gzip stream", ""},
		// The start of another member, cut off, is a truncated file.
		{"gzip second member cut", string(gz) + "\x1f", "truncated", "trailing"},
		{"gzip second member header cut", string(gz) + "\x1f\x8b\x08", "truncated", "trailing"},
		{"gzip second member bad", string(gz) + "\x1f\x8b\x07\x00\x00\x00\x00\x00\x00\x00", "invalid header", "truncated"},
		{"gzip of bad magic", string(gzipBytes(t, []byte("\x00\x01\x08\x01\x00\x00\x00\x00"))), "not an IDX file", ""},
		{"gzip huge claim", string(gzipBytes(t, idxBytes([]int{30000, 30000}, nil))), "more than a", ""},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		writeFile(t, path, []byte(tc.file))
		_, _, err := ReadIDX(path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v does not match ErrCorrupt", tc.name, err)
		}
		// The fault, not the whole message: the test file's name holds
		// the case's name.
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.File != path || !strings.Contains(ce.Fault, tc.want) ||
			(tc.unwant != "" && strings.Contains(ce.Fault, tc.unwant)) {
			t.Errorf("%s: error %q should name %s and say %q (and not %q)", tc.name, err, path, tc.want, tc.unwant)
		}
		// The reader path must agree, with and without a known size.
		for _, size := range []int64{int64(len(tc.file)), -1} {
			if _, _, err := DecodeIDX(strings.NewReader(tc.file), size); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: DecodeIDX(size %d) = %v, want ErrCorrupt", tc.name, size, err)
			}
		}
	}
}

func TestReadIDXNotAFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ReadIDX(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := ReadIDX(dir); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v", err)
	}
}

// A header may claim up to maxIDXBytes; what gets allocated must follow the
// bytes the file really holds, not the claim.
func TestReadIDXHostileAllocation(t *testing.T) {
	claim := []int{1 << 15, 1 << 15} // 1 GiB
	payload := bytes.Repeat([]byte{7}, 1<<20)
	hostile := gzipBytes(t, idxBytes(claim, payload)) // about 1 KB of gzip
	for _, size := range []int64{int64(len(hostile)), -1} {
		var err error
		n := heap.Allocated(func() { _, _, err = DecodeIDX(bytes.NewReader(hostile), size) })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("size %d: err = %v, want ErrCorrupt", size, err)
		}
		t.Logf("size %d: %d-byte gzip claiming 1 GiB: %d bytes allocated", size, len(hostile), n)
		// Twice the 1 MiB that arrives, plus the readers' buffers.
		if n > 3<<20 {
			t.Errorf("size %d: allocated %d bytes for a %d-byte file", size, n, len(hostile))
		}
	}
	raw := idxBytes(claim, payload)
	var err error
	n := heap.Allocated(func() { _, _, err = DecodeIDX(bytes.NewReader(raw), int64(len(raw))) })
	if !errors.Is(err, ErrCorrupt) || n > 1<<20 {
		t.Errorf("raw: err = %v, allocated %d bytes", err, n)
	}
}

// A gzip file that passes the compression-ratio check but holds far less
// than its header claims must cost memory in proportion to what it holds,
// as ReadIDX promises: at most gzipPrealloc times the compressed size (or
// unknownPrealloc when the size is unknown) up front, then a buffer that
// doubles only as data arrives and so stays within twice what arrived. The
// doublings' buffers together stay under four times what arrived, since
// each is at most twice the data that had arrived when it was made.
func TestReadIDXUnderDeliveringGzip(t *testing.T) {
	// 256 KiB that do not compress, so that the file is large enough for
	// the claim to pass the ratio check, then 8 MiB of zeros, so that the
	// data outgrows the up-front allocation.
	noise := make([]byte, 256<<10)
	x := uint32(1)
	for i := range noise {
		x = x*1664525 + 1013904223
		noise[i] = byte(x >> 24)
	}
	payload := append(noise, make([]byte, 8<<20)...)
	claim := []int{1 << 16, 1 << 12} // 256 MiB
	file := gzipBytes(t, idxBytes(claim, payload))
	size := int64(len(file))
	const claimed = 1 << 28
	if claimed > maxDeflateRatio*size+1024 {
		t.Fatalf("the %d-byte file fails the ratio check, so it tests nothing here", size)
	}
	arrived := uint64(len(payload))
	// The readers' own buffers (bufio, flate's window and tables).
	const slack = 512 << 10
	for _, tc := range []struct {
		size     int64
		prealloc uint64
	}{
		{size, uint64(gzipPrealloc*size + 64<<10)},
		{-1, unknownPrealloc},
	} {
		var err error
		n := heap.Allocated(func() { _, _, err = DecodeIDX(bytes.NewReader(file), tc.size) })
		want := fmt.Sprintf("truncated: got %d of %d bytes", arrived, claimed)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Fatalf("size %d: err = %v, want %q", tc.size, err, want)
		}
		bound := tc.prealloc + 4*arrived + slack
		t.Logf("size %d: %d-byte gzip holding %d bytes, claiming %d: %d bytes allocated (bound %d)", tc.size, size, arrived, claimed, n, bound)
		if n > bound {
			t.Errorf("size %d: allocated %d bytes, more than %d (%d up front and four times the %d bytes that arrived)",
				tc.size, n, bound, tc.prealloc, arrived)
		}
	}
}

// slowReader yields one byte per Read, to exercise short reads.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return s.r.Read(p)
}

func TestDecodeIDXShortReads(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3}, 50000)
	raw := idxBytes([]int{50000, 3}, data)
	for _, file := range [][]byte{raw, gzipBytes(t, raw)} {
		_, got, err := DecodeIDX(slowReader{bytes.NewReader(file)}, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("err %v, equal %v", err, bytes.Equal(got, data))
		}
	}
}

func FuzzReadIDX(f *testing.F) {
	good := idxBytes([]int{3, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	gz := gzipBytes(f, good)
	f.Add(good)
	f.Add(gz)
	f.Add(good[:len(good)-3])
	f.Add(gz[:len(gz)-3])
	f.Add(append(bytes.Clone(good), 0))
	f.Add(idxBytes([]int{7}, []byte{1, 2, 3, 4, 5, 6, 7}))
	f.Add(idxBytes([]int{0xffff, 0xffff}, nil))
	f.Add(gzipBytes(f, idxBytes([]int{0xffff, 0xffff}, nil)))
	f.Add([]byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Add(append(gzipBytes(f, good[:7]), gzipBytes(f, good[7:])...))
	f.Add(append(bytes.Clone(gz), "garbage!"...))
	f.Add(append(bytes.Clone(gz), 0x1f))
	f.Fuzz(func(t *testing.T, file []byte) {
		for _, size := range []int64{int64(len(file)), -1} {
			dims, data, err := DecodeIDX(bytes.NewReader(file), size)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("size %d: error %v is not ErrCorrupt", size, err)
				}
				continue
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			if n != len(data) {
				t.Fatalf("dims %v but %d bytes", dims, len(data))
			}
			// A raw file that decodes must be exactly its re-encoding, and
			// a gzip file one that the standard library's reader, which
			// reads every member, decompresses to that.
			if len(file) >= 2 && !(file[0] == 0x1f && file[1] == 0x8b) && !bytes.Equal(idxBytes(dims, data), file) {
				t.Fatalf("raw decode is not the inverse of encode")
			}
			if len(file) >= 2 && file[0] == 0x1f && file[1] == 0x8b {
				zr, err := gzip.NewReader(bytes.NewReader(file))
				if err != nil {
					t.Fatalf("decoded, but compress/gzip rejects the header: %v", err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(plain, idxBytes(dims, data)) {
					t.Fatalf("decoded to dims %v, but compress/gzip reads %d bytes (%v)", dims, len(plain), err)
				}
			}
		}
	})
}
