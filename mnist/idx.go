package mnist

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
)

const (
	// maxIDXBytes caps the data an IDX header may claim: far above any
	// MNIST-family set (EMNIST's largest is about 0.6 GB) and still a valid
	// int on 32-bit platforms.
	maxIDXBytes = math.MaxInt32
	// maxIDXRank is generous: the format allows 255 dimensions, MNIST uses 3.
	maxIDXRank = 8
	// maxDeflateRatio bounds how much a deflate stream can expand (a
	// 258-byte match coded in two bits); a gzip file of n bytes can hold
	// no more than about maxDeflateRatio*n bytes.
	maxDeflateRatio = 1032
	// gzipPrealloc is the expansion we allocate for up front; real IDX files
	// compress by 2–5×. A stream that really expands more grows its buffer
	// by doubling as data arrives, so the buffer stays within twice what
	// actually arrived, and all the buffers of the doublings together within
	// four times, whatever the header claims.
	gzipPrealloc = 16
	// unknownPrealloc is the up-front allocation when the stream's size is
	// unknown.
	unknownPrealloc = 1 << 20
)

// idxTypeNames names the element types the IDX format defines, so that an
// unsupported one is reported by name.
var idxTypeNames = map[byte]string{
	0x08: "unsigned byte",
	0x09: "signed byte",
	0x0B: "int16",
	0x0C: "int32",
	0x0D: "float32",
	0x0E: "float64",
}

// ReadIDX reads the IDX file at path, gzipped or raw (told apart by the gzip
// magic bytes 1f 8b), and returns its dimensions and its elements in row-major
// order. Only the unsigned-byte element type (0x08) is supported.
//
// The header is checked against the file: a raw file must hold exactly the
// bytes its dimensions claim, and a gzip stream (of one or more members) must
// decompress to exactly that many, pass its CRCs and end the file.
//
// Memory follows the data, not the header. A gzip file's claim must fit
// what its compressed size can expand to; then at most 16 times the
// compressed size is allocated up front, and beyond that the buffer grows
// by doubling only as decompressed data arrives, so it stays within twice
// what arrived. Decompression stops one byte past the claimed size.
//
// Every fault yields a *CorruptError naming the file, which tells a
// truncated file ("truncated: got M of N bytes") from one with too much
// data ("trailing data after the N expected bytes") or with bytes after its
// gzip stream ("trailing garbage after the gzip stream").
func ReadIDX(path string) (dims []int, data []uint8, err error) {
	dims, data, _, err = readIDXFile(path, false, nil)
	return dims, data, err
}

// DecodeIDX decodes an IDX stream, gzipped or raw, from r. size is the
// number of bytes r will yield (the compressed size for gzip) and bounds what
// the header may claim; pass -1 when it is unknown, in which case 1 MiB is
// allocated up front and memory still grows only as data actually arrives.
// See ReadIDX for the checks.
func DecodeIDX(r io.Reader, size int64) (dims []int, data []uint8, err error) {
	return decodeIDX("", r, size, nil, nil)
}

// readIDXFile opens and decodes path; with sum set it also returns the
// SHA-256 of the decompressed content, which is what the pins cover.
// checkDims, when not nil, judges the header's dimensions before any of the
// data is read or allocated for; its error is returned as is.
func readIDXFile(path string, sum bool, checkDims func(dims []int) error) (dims []int, data []uint8, digest []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mnist: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, nil, corrupt(path, "not a regular file")
	}
	var h hash.Hash
	if sum {
		h = sha256.New()
	}
	dims, data, err = decodeIDX(path, f, st.Size(), h, checkDims)
	if err != nil {
		return nil, nil, nil, err
	}
	if h != nil {
		digest = h.Sum(nil)
	}
	return dims, data, digest, nil
}

// decodeIDX is DecodeIDX with a name for errors, an optional hash fed with
// the decompressed bytes, and an optional check of the header's dimensions
// (see readIDXFile).
func decodeIDX(name string, r io.Reader, size int64, h hash.Hash, checkDims func([]int) error) ([]int, []uint8, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	magic, err := br.Peek(2)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, corrupt(name, fmt.Sprintf("too short to be an IDX file (%d bytes)", len(magic)))
		}
		return nil, nil, readErr(name, err)
	}
	var src io.Reader = br
	gzipped := magic[0] == 0x1f && magic[1] == 0x8b
	if gzipped {
		gs, err := newGzipStream(br, func() int64 { return cr.n - int64(br.Buffered()) }, size)
		if err != nil {
			return nil, nil, streamErr(name, "gzip header", err)
		}
		src = gs
	}
	if h != nil {
		src = io.TeeReader(src, h)
	}

	var head [4]byte
	if _, err := io.ReadFull(src, head[:]); err != nil {
		return nil, nil, streamErr(name, "IDX header", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, corrupt(name, fmt.Sprintf("not an IDX file: magic % x does not start with 00 00", head[:]))
	}
	if head[2] != 0x08 {
		if tn, ok := idxTypeNames[head[2]]; ok {
			return nil, nil, corrupt(name, fmt.Sprintf("IDX element type 0x%02X (%s) is not supported; only 0x08 (unsigned byte) is", head[2], tn))
		}
		return nil, nil, corrupt(name, fmt.Sprintf("not an IDX file: unknown element type 0x%02X", head[2]))
	}
	rank := int(head[3])
	if rank < 1 || rank > maxIDXRank {
		return nil, nil, corrupt(name, fmt.Sprintf("IDX rank %d out of range 1..%d", rank, maxIDXRank))
	}
	var dimBuf [4 * maxIDXRank]byte
	if _, err := io.ReadFull(src, dimBuf[:4*rank]); err != nil {
		return nil, nil, streamErr(name, "IDX dimensions", err)
	}
	var raw [maxIDXRank]int64
	for i := range rank {
		b := dimBuf[4*i:]
		raw[i] = int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	}
	total := int64(1)
	for _, d := range raw[:rank] {
		// total ≤ maxIDXBytes before each step and d < 2^32, so the product
		// cannot overflow int64. A zero dimension must not let another one
		// past the cap either: it still has to fit an int.
		total *= d
		if total > maxIDXBytes || d > maxIDXBytes {
			return nil, nil, corrupt(name, fmt.Sprintf("IDX dimensions %v claim more than %d bytes", raw[:rank], int64(maxIDXBytes)))
		}
	}
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = int(raw[i])
	}
	// A caller that knows what the file must hold rejects a wrong header
	// here, before a byte of data is decompressed or allocated for.
	if checkDims != nil {
		if err := checkDims(dims); err != nil {
			return nil, nil, err
		}
	}

	headerLen := int64(4 + 4*rank)
	prealloc := total
	switch {
	case size < 0:
		prealloc = min(total, unknownPrealloc)
	case !gzipped:
		if rest := size - headerLen; total > rest {
			return nil, nil, corrupt(name, fmt.Sprintf("truncated: got %d of %d bytes of data (IDX dimensions %v)", max(rest, 0), total, dims))
		} else if total < rest {
			return nil, nil, corrupt(name, fmt.Sprintf("trailing data after the %d expected bytes (IDX dimensions %v): the file has %d after the header", total, dims, rest))
		}
	default:
		if total > maxDeflateRatio*size+1024 {
			return nil, nil, corrupt(name, fmt.Sprintf("IDX dimensions %v need %d bytes, more than a %d-byte gzip file can hold", dims, total, size))
		}
		prealloc = min(total, gzipPrealloc*size+64<<10)
	}

	// At most total bytes are read here, and one more below: a stream that
	// holds more is stopped there, however much more it holds.
	data, err := readBounded(src, total, prealloc)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, corrupt(name, fmt.Sprintf("truncated: got %d of %d bytes of data (IDX dimensions %v), then the stream breaks off", len(data), total, dims))
		}
		var tg *trailingGarbageError
		if errors.As(err, &tg) {
			return nil, nil, corrupt(name, fmt.Sprintf("%v, and the stream held only %d of the %d bytes of data (IDX dimensions %v)", tg, len(data), total, dims))
		}
		return nil, nil, streamErr(name, "IDX data", err)
	}
	if int64(len(data)) < total {
		return nil, nil, corrupt(name, fmt.Sprintf("truncated: got %d of %d bytes of data (IDX dimensions %v)", len(data), total, dims))
	}
	// Reading past the end both catches trailing bytes and makes the gzip
	// reader verify its CRC-32 and length trailer.
	var one [1]byte
	n, err := io.ReadFull(src, one[:])
	if n > 0 {
		return nil, nil, corrupt(name, fmt.Sprintf("trailing data after the %d expected bytes (IDX dimensions %v)", total, dims))
	}
	if err != io.EOF {
		where := "end of the data"
		if gzipped {
			where = "gzip trailer"
		}
		return nil, nil, streamErr(name, where, err)
	}
	return dims, data, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// trailingGarbageError reports bytes after the end of a gzip stream that
// do not start another gzip member.
type trailingGarbageError struct {
	offset int64 // where the garbage starts in the file
	size   int64 // the file's size; -1 if unknown
}

func (e *trailingGarbageError) Error() string {
	if e.size > e.offset {
		return fmt.Sprintf("trailing garbage after the gzip stream: the last %d bytes, from offset %d on, are not a gzip member", e.size-e.offset, e.offset)
	}
	return fmt.Sprintf("trailing garbage after the gzip stream: the bytes from offset %d on are not a gzip member", e.offset)
}

// gzipStream decompresses a gzip stream of one or more members, as
// gzip.Reader does, but tells the ways the stream can end apart: cleanly at
// the end of a member, inside a member (io.ErrUnexpectedEOF), or with bytes
// after the last member that are not another member (a
// *trailingGarbageError, which gzip.Reader would report as a truncated or
// invalid header).
type gzipStream struct {
	br   *bufio.Reader
	zr   *gzip.Reader
	pos  func() int64 // the offset in the file that br reads next
	size int64        // the file's size; -1 if unknown
	err  error
}

func newGzipStream(br *bufio.Reader, pos func() int64, size int64) (*gzipStream, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &gzipStream{br: br, zr: zr, pos: pos, size: size}, nil
}

func (g *gzipStream) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		// A member ended and its CRC-32 and length checked out. The
		// bufio.Reader is an io.ByteReader, so gzip has read nothing
		// beyond the member's trailer: what follows is for us to judge.
		next, perr := g.br.Peek(2)
		switch {
		case len(next) == 0 && perr == io.EOF:
			g.err = io.EOF
		case len(next) == 0:
			g.err = perr
		case bytes.HasPrefix([]byte{0x1f, 0x8b}, next):
			// Another member, or the cut-off start of one, which Reset
			// reports as io.ErrUnexpectedEOF.
			if g.err = g.zr.Reset(g.br); g.err == nil {
				g.zr.Multistream(false)
			}
		default:
			g.err = &trailingGarbageError{offset: g.pos(), size: g.size}
		}
		switch {
		case n > 0 && g.err != io.EOF:
			return n, nil // g.err, if any, comes with the next call
		case n > 0 || g.err != nil:
			return n, g.err
		}
	}
}

// readBounded reads up to want bytes, allocating prealloc up front and
// growing by doubling only as data arrives. It returns fewer than want bytes
// (and a nil error) when r ends early.
func readBounded(r io.Reader, want, prealloc int64) ([]byte, error) {
	buf := make([]byte, 0, int(min(prealloc, want)))
	for int64(len(buf)) < want {
		if len(buf) == cap(buf) {
			nc := min(max(2*int64(cap(buf)), 64<<10), want)
			nb := make([]byte, len(buf), int(nc))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// streamErr classifies a read failure: damage in the data (short stream,
// bad gzip header or CRC, broken deflate) is a CorruptError; anything else
// is an I/O error wrapped as is.
func streamErr(name, where string, err error) error {
	var fe flate.CorruptInputError
	var tg *trailingGarbageError
	switch {
	case errors.As(err, &tg):
		return corrupt(name, tg.Error())
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt(name, "truncated: the stream ends inside the "+where)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &fe):
		return corrupt(name, where+": "+err.Error())
	}
	return readErr(name, err)
}

func readErr(name string, err error) error {
	if name == "" {
		return fmt.Errorf("mnist: %w", err)
	}
	return fmt.Errorf("mnist: reading %s: %w", name, err)
}
