package mnist

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// npyMaxHeader is NumPy's own default limit on .npy header length
// (numpy.lib.format's max_header_size).
const npyMaxHeader = 10000

// npyArray is one uint8 array from a .npy file, in C order.
type npyArray struct {
	shape []int
	data  []uint8
}

// readNPZ parses a .npz archive held in memory and returns the named arrays.
// Every name in want must be present exactly once; other members are
// ignored. Each member must be an uncompressed-or-deflated .npy file holding
// a C-order '|u1' array.
func readNPZ(name string, b []byte, want []string) (map[string]npyArray, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, corrupt(name, "not a valid .npz (zip) archive: "+err.Error())
	}
	members := make(map[string]*zip.File)
	for _, f := range zr.File {
		for _, w := range want {
			if f.Name == w+".npy" {
				if members[w] != nil {
					return nil, corrupt(name, "member "+f.Name+" appears twice")
				}
				members[w] = f
			}
		}
	}
	out := make(map[string]npyArray, len(want))
	for _, w := range want {
		f := members[w]
		if f == nil {
			return nil, corrupt(name, "the archive has no member "+w+".npy")
		}
		where := name + ": " + f.Name
		if f.UncompressedSize64 > maxIDXBytes+npyMaxHeader+64 {
			return nil, corrupt(where, fmt.Sprintf("member claims %d bytes, too many", f.UncompressedSize64))
		}
		// The zip directory's sizes are untrusted too: a member cannot
		// expand beyond what deflate allows.
		if f.UncompressedSize64 > maxDeflateRatio*f.CompressedSize64+1024 {
			return nil, corrupt(where, fmt.Sprintf("member claims %d bytes, more than %d compressed bytes can hold", f.UncompressedSize64, f.CompressedSize64))
		}
		rc, err := f.Open()
		if err != nil {
			return nil, corrupt(where, err.Error())
		}
		a, err := decodeNPY(where, rc, int64(f.UncompressedSize64), int64(f.CompressedSize64))
		rc.Close()
		if err != nil {
			return nil, err
		}
		out[w] = a
	}
	return out, nil
}

// decodeNPY reads one .npy stream of size bytes (compressed into csize
// bytes, which bounds the up-front allocation).
func decodeNPY(name string, r io.Reader, size, csize int64) (npyArray, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return npyArray{}, npyStreamErr(name, "header", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return npyArray{}, corrupt(name, "not a .npy file (bad magic)")
	}
	major, minor := pre[6], pre[7]
	var hlen, prefix int64
	switch {
	case major == 1 && minor == 0:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return npyArray{}, npyStreamErr(name, "header", err)
		}
		hlen, prefix = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case (major == 2 || major == 3) && minor == 0:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return npyArray{}, npyStreamErr(name, "header", err)
		}
		hlen, prefix = int64(binary.LittleEndian.Uint32(l[:])), 12
	default:
		return npyArray{}, corrupt(name, fmt.Sprintf(".npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", major, minor))
	}
	if hlen > npyMaxHeader {
		return npyArray{}, corrupt(name, fmt.Sprintf(".npy header length %d exceeds %d", hlen, npyMaxHeader))
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return npyArray{}, npyStreamErr(name, "header", err)
	}
	shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return npyArray{}, corrupt(name, ".npy header "+err.Error())
	}
	total := int64(1)
	for _, d := range shape {
		total *= int64(d)
		if total > maxIDXBytes || int64(d) > maxIDXBytes {
			return npyArray{}, corrupt(name, fmt.Sprintf("shape %v claims more than %d bytes", shape, int64(maxIDXBytes)))
		}
	}
	if rest := size - prefix - hlen; rest != total {
		return npyArray{}, corrupt(name, fmt.Sprintf("shape %v needs %d data bytes, the member has %d", shape, total, max(rest, 0)))
	}
	data, err := readBounded(r, total, min(total, gzipPrealloc*csize+64<<10))
	if err != nil {
		return npyArray{}, npyStreamErr(name, "data", err)
	}
	if int64(len(data)) < total {
		return npyArray{}, corrupt(name, fmt.Sprintf("truncated: shape %v needs %d data bytes, the member holds %d", shape, total, len(data)))
	}
	// Reading to the end makes archive/zip check the member's CRC-32.
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 || err != io.EOF {
		if n > 0 {
			return npyArray{}, corrupt(name, "trailing data after the array")
		}
		return npyArray{}, npyStreamErr(name, "end", err)
	}
	return npyArray{shape: shape, data: data}, nil
}

func npyStreamErr(name, where string, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt(name, "truncated: the member ends inside the .npy "+where)
	}
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		return corrupt(name, err.Error())
	}
	// Inside an in-memory archive every failure is a fault of the data
	// (a broken deflate stream, say), never an I/O error.
	return corrupt(name, "reading the .npy "+where+": "+err.Error())
}

// parseNPYHeader parses the Python dict literal of a .npy header, which
// must describe a C-order array of unsigned bytes:
//
//	{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }
//
// The keys may come in any order; each must appear once and no other key
// may. Integers may carry the 'L' suffix that Python 2's NumPy wrote. The
// dict must be followed only by spaces and a final newline.
func parseNPYHeader(h string) ([]int, error) {
	p := &npyParser{}
	if !strings.HasSuffix(h, "\n") {
		return nil, errors.New("does not end with a newline")
	}
	p.s = h[:len(h)-1]
	if !p.eat('{') {
		return nil, p.fail("expected '{'")
	}
	var (
		shape              []int
		haveDescr, haveFO  bool
		haveShape, closing bool
	)
	for !closing {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return nil, p.fail("expected a quoted key")
		}
		if !p.eat(':') {
			return nil, p.fail("expected ':'")
		}
		switch key {
		case "descr":
			if haveDescr {
				return nil, p.fail("duplicate key 'descr'")
			}
			haveDescr = true
			v, ok := p.str()
			if !ok {
				return nil, p.fail("expected a quoted descr")
			}
			if v != "|u1" {
				return nil, fmt.Errorf("descr '%s' is not supported: only '|u1' (unsigned bytes) is", v)
			}
		case "fortran_order":
			if haveFO {
				return nil, p.fail("duplicate key 'fortran_order'")
			}
			haveFO = true
			switch {
			case p.word("False"):
			case p.word("True"):
				return nil, errors.New("fortran_order True is not supported: only C-order arrays are")
			default:
				return nil, p.fail("expected True or False")
			}
		case "shape":
			if haveShape {
				return nil, p.fail("duplicate key 'shape'")
			}
			haveShape = true
			var err error
			if shape, err = p.tuple(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("has unexpected key %q", key)
		}
		if !p.eat(',') {
			closing = true
			if !p.eat('}') {
				return nil, p.fail("expected ',' or '}'")
			}
		}
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail("unexpected text after the dict")
	}
	if !haveDescr || !haveFO || !haveShape {
		return nil, errors.New("lacks one of the keys 'descr', 'fortran_order', 'shape'")
	}
	return shape, nil
}

type npyParser struct {
	s string
	i int
}

func (p *npyParser) fail(msg string) error {
	return fmt.Errorf("is malformed at byte %d: %s", p.i, msg)
}

func (p *npyParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *npyParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *npyParser) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes, which is all NumPy writes.
func (p *npyParser) str() (string, bool) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsAny(v, "\\\n") {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple reads "()", "(n,)" or "(n, m, ...)" of non-negative decimal ints.
func (p *npyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.fail("expected '(' for the shape")
	}
	shape := []int{}
	for {
		if p.eat(')') {
			break
		}
		p.space()
		start := p.i
		v := int64(0)
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			v = v*10 + int64(p.s[p.i]-'0')
			if v > maxIDXBytes {
				return nil, fmt.Errorf("shape dimension exceeds %d", int64(maxIDXBytes))
			}
			p.i++
		}
		if p.i == start {
			return nil, p.fail("expected a dimension")
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		shape = append(shape, int(v))
		if len(shape) > maxIDXRank {
			return nil, fmt.Errorf("shape has more than %d dimensions", maxIDXRank)
		}
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, p.fail("expected ',' or ')' in the shape")
			}
			if len(shape) == 1 {
				// Python writes a 1-tuple as "(n,)"; "(n)" is a plain int.
				return nil, p.fail("a one-dimensional shape must be written (n,)")
			}
			break
		}
	}
	return shape, nil
}
