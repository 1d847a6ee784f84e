package mlp

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// ErrPredictorFile is the error Load returns (wrapped) for an int8
// predictor file, which holds quantized weights and no model to train:
// LoadPredictor reads it.
var ErrPredictorFile = errors.New("an int8 predictor file, not a model: read it with mlp.LoadPredictor")

// Load reads a model written by Save (or by any program following the same
// layout; see the package documentation for a Keras model) and returns it
// built with the saved weights. A file with the compile state (what Save
// writes for a compiled model) gives the model compiled as it was, its
// optimizer holding the saved iteration count and slots; without it (an
// uncompiled model, ExcludeOptimizer, SaveWeights) the model is
// uncompiled. Every part of the file is
// checked before it is used: header length, JSON syntax, format version,
// architecture, tensor names, dtypes (F32 only), shapes against the
// architecture, and byte offsets (inside the data, in any order, covering
// it without gaps or overlaps). An error names the file and the fault.
//
// Loading does not advance the automatic name counters: the model and its
// layers keep their saved names.
func Load(path string) (*Sequential, error) {
	f, size, err := openRegular("Load", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return load(path, f, size)
}

// openRegular opens path for fn's reading and returns its size; a path
// that is not a regular file (a directory, a pipe, a device) is an error.
func openRegular(fn, path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("mlp: %s: %w", fn, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("mlp: %s: %w", fn, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("mlp: %s %s: not a regular file", fn, path)
	}
	return f, fi.Size(), nil
}

// load reads a model file of size bytes from r; name is used in errors.
func load(name string, r io.Reader, size int64) (*Sequential, error) {
	m, err := loadFrom(r, size)
	if err != nil {
		return nil, fmt.Errorf("mlp: Load %s: %w", name, err)
	}
	return m, nil
}

// loadFrom is load without the file's name in its errors.
func loadFrom(r io.Reader, size int64) (*Sequential, error) {
	header, dataLen, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	meta, tensors, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	return loadParsed(r, meta, tensors, dataLen)
}

// loadParsed is loadFrom after the header: r is at the first of the
// dataLen data bytes.
func loadParsed(r io.Reader, meta map[string]string, tensors map[string]tensorInfo, dataLen int64) (*Sequential, error) {
	if err := checkOffsets(tensors, dataLen); err != nil {
		return nil, err
	}
	arch, err := parseArch(meta)
	if err != nil {
		return nil, err
	}
	if q, ok := meta[metaQuantization]; ok {
		return nil, fmt.Errorf("%w (quantization %s)", ErrPredictorFile, clip(q))
	}
	for n, t := range tensors {
		if t.Dtype != "F32" {
			return nil, fmt.Errorf("tensor %q has dtype %q; a model file holds only F32", n, t.Dtype)
		}
	}
	var training *trainingSpec
	var opt optim.Optimizer
	if t, ok := meta[metaTraining]; ok {
		if training, opt, err = parseTraining(t); err != nil {
			return nil, err
		}
	}
	// Compare the tensors with the architecture before building: the
	// weights are allocated only for shapes the file's own bytes account
	// for, so a forged header cannot ask for more memory than the file has.
	want, err := arch.weightShapes()
	if err != nil {
		return nil, err
	}
	if err := checkWeightTensors(tensors, want, training != nil); err != nil {
		return nil, err
	}
	m, err := arch.build()
	if err != nil {
		return nil, err
	}

	// Read the data in file order, so that r need not seek.
	dst := make(map[string][]float32, len(tensors))
	for _, l := range m.dense {
		dst[l.name+"/kernel"], dst[l.name+"/bias"] = l.w, l.b
	}
	var resume optim.Resumable
	var slots []optim.Slot
	if training != nil {
		if resume, slots, err = m.resumeSlots(training, opt, tensors, want, dst); err != nil {
			return nil, err
		}
	}
	if len(dst) != len(tensors) {
		var extra []string
		for n := range tensors {
			if _, ok := dst[n]; !ok {
				extra = append(extra, n)
			}
		}
		return nil, fmt.Errorf("unexpected tensors %s: optimizer %s has no such slots", quoteSorted(extra), opt.Name())
	}
	if err := readTensors(r, tensors, dst, nil); err != nil {
		return nil, err
	}
	if resume != nil {
		if err := resume.SetState(optim.State{Iterations: training.Iterations, Slots: slots}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readHeader reads the header length and the JSON header that follows it
// from the first bytes of a file of size bytes, and returns the header and
// the number of data bytes after it.
func readHeader(r io.Reader, size int64) ([]byte, int64, error) {
	if size < 8 {
		return nil, 0, fmt.Errorf("file is %d bytes, too short for a safetensors header", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, 0, fmt.Errorf("reading header length: %v", err)
	}
	if err := foreignFormat(lenBuf); err != nil {
		return nil, 0, err
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxHeader {
		return nil, 0, fmt.Errorf("header length %d exceeds the %d-byte limit (not a safetensors file?)", hlen, maxHeader)
	}
	if hlen > uint64(size-8) {
		return nil, 0, fmt.Errorf("header length %d exceeds the %d bytes after the length field (truncated file?)", hlen, size-8)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, 0, fmt.Errorf("reading %d-byte header: %v", hlen, err)
	}
	return header, size - 8 - int64(hlen), nil
}

// foreignFormat names the formats a user may hand Load by mistake, from
// a file's first eight bytes: Keras's HDF5 (.h5) and zip (.keras) files.
func foreignFormat(magic [8]byte) error {
	switch {
	case string(magic[:]) == "\x89HDF\r\n\x1a\n":
		return errors.New("this is an HDF5 file (Keras's .h5 format), not safetensors; convert the model as the package documentation shows")
	case string(magic[:4]) == "PK\x03\x04":
		return errors.New("this is a zip file (Keras's .keras format?), not safetensors; convert the model as the package documentation shows")
	}
	return nil
}

// checkWeightTensors checks that the file has every weight tensor the
// architecture wants, with its shape, and no other tensor except, when
// the file saved its optimizer (withOptimizer), the optimizer's, which
// resumeSlots checks once the optimizer is built.
func checkWeightTensors(tensors map[string]tensorInfo, want map[string][]int64, withOptimizer bool) error {
	if len(tensors) != len(want) {
		var extra []string
		for n := range tensors {
			if _, ok := want[n]; !ok && (!withOptimizer || !strings.HasPrefix(n, "optimizer/")) {
				extra = append(extra, n)
			}
		}
		if len(extra) > 0 {
			return fmt.Errorf("unexpected tensors %s: the architecture has %d weight tensors", quoteSorted(extra), len(want))
		}
	}
	for n, s := range want {
		t, ok := tensors[n]
		if !ok {
			return fmt.Errorf("tensor %q is missing", n)
		}
		if !slices.Equal(t.Shape, s) {
			return fmt.Errorf("tensor %q has shape %v, the architecture needs %v", n, t.Shape, s)
		}
	}
	return nil
}

// quoteSorted returns names quoted, sorted and comma-separated, so that an
// error lists them in the same order every time.
func quoteSorted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	slices.Sort(q)
	return strings.Join(q, ", ")
}

// build returns the architecture's model, built with fresh weights.
func (a *arch) build() (*Sequential, error) {
	layers := make([]*Layer, len(a.layers))
	for i, s := range a.layers {
		switch s.ClassName {
		case "Dense":
			layers[i] = Dense(s.Units, s.Activation, Name(s.Name))
		case "Dropout":
			layers[i] = Dropout(s.Rate, Name(s.Name))
			layers[i].seed, layers[i].seedSet = s.Seed, true
		default:
			layers[i] = Flatten(Name(s.Name))
		}
	}
	m := NewSequential(a.name, layers...)
	if err := m.Err(); err != nil {
		return nil, fmt.Errorf("architecture: %v", err)
	}
	if err := m.Build(a.inShape...); err != nil {
		return nil, fmt.Errorf("architecture: %v", err)
	}
	return m, nil
}

// resumeSlots compiles m as the file's training configuration says and
// builds its optimizer, whose slot arrays it adds to dst under their
// tensors' names, so that the file's slot tensors are read straight into
// them; it returns the optimizer and its slots, for SetState to check
// once they are read.
func (m *Sequential) resumeSlots(training *trainingSpec, opt optim.Optimizer, tensors map[string]tensorInfo,
	want map[string][]int64, dst map[string][]float32) (optim.Resumable, []optim.Slot, error) {
	if err := m.Compile(opt, training.Loss, training.Metrics...); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", metaTraining, err)
	}
	if err := m.prepareTraining(); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", metaTraining, err)
	}
	resume, ok := m.updater.(optim.Resumable)
	if !ok {
		return nil, nil, fmt.Errorf("%s: optimizer %s cannot take a saved state", metaTraining, opt.Name())
	}
	slots := resume.State().Slots
	for _, sl := range slots {
		for i, l := range m.dense {
			for k, w := range []string{l.name + "/kernel", l.name + "/bias"} {
				n := optimizerTensor(w, sl.Name)
				t, ok := tensors[n]
				if !ok {
					return nil, nil, fmt.Errorf("tensor %q is missing: optimizer %s has slot %q", n, opt.Name(), sl.Name)
				}
				v := sl.Values[2*i+k]
				if want := want[w]; !slices.Equal(t.Shape, want) {
					return nil, nil, fmt.Errorf("tensor %q has shape %v, its weight has %v", n, t.Shape, want)
				}
				dst[n] = v
			}
		}
	}
	return resume, slots, nil
}

// readTensors reads the data of every tensor into its array in dst (F32)
// or codes (I8), in the order of the file's bytes, refusing NaN and ±Inf.
func readTensors(r io.Reader, tensors map[string]tensorInfo, dst map[string][]float32, codes map[string][]int8) error {
	order := make([]string, 0, len(tensors))
	for n := range tensors {
		order = append(order, n)
	}
	slices.SortFunc(order, func(a, b string) int {
		return cmp.Compare(tensors[a].DataOffsets[0], tensors[b].DataOffsets[0])
	})
	br := bufio.NewReaderSize(r, 64<<10)
	var buf [4096]byte
	for _, n := range order {
		if c, ok := codes[n]; ok {
			for i := 0; i < len(c); {
				k := min(len(c)-i, len(buf))
				if _, err := io.ReadFull(br, buf[:k]); err != nil {
					return fmt.Errorf("reading tensor %q: %v", n, err)
				}
				for j, b := range buf[:k] {
					c[i+j] = int8(b)
				}
				i += k
			}
			continue
		}
		t := dst[n]
		for i := 0; i < len(t); {
			k := min(len(t)-i, len(buf)/4)
			if _, err := io.ReadFull(br, buf[:4*k]); err != nil {
				return fmt.Errorf("reading tensor %q: %v", n, err)
			}
			for j := range k {
				v := math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("tensor %q holds %v at index %d", n, v, i+j)
				}
				t[i+j] = v
			}
			i += k
		}
	}
	return nil
}

// dtypeSize returns the bytes per element of a safetensors dtype this
// package reads, or 0 for any other.
func dtypeSize(dtype string) int64 {
	switch dtype {
	case "F32":
		return 4
	case "I8":
		return 1
	}
	return 0
}

// parseTraining decodes the "training_config" metadata and rebuilds its
// optimizer.
func parseTraining(s string) (*trainingSpec, optim.Optimizer, error) {
	var t trainingSpec
	if err := strictUnmarshal([]byte(s), &t); err != nil {
		return nil, nil, fmt.Errorf("__metadata__ %q is not a training configuration: %v", metaTraining, err)
	}
	if t.Iterations < 0 {
		return nil, nil, fmt.Errorf("%s: iterations = %d is negative", metaTraining, t.Iterations)
	}
	if t.Iterations > optim.MaxIterations {
		return nil, nil, fmt.Errorf("%s: iterations = %d is more than an optimizer counts (optim.MaxIterations = %d)",
			metaTraining, t.Iterations, optim.MaxIterations)
	}
	if len(t.Optimizer.Config) == 0 {
		return nil, nil, fmt.Errorf("%s: optimizer_config has no config", metaTraining)
	}
	opt, err := optim.UnmarshalConfig(t.Optimizer.ClassName, t.Optimizer.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", metaTraining, err)
	}
	return &t, opt, nil
}

// parseHeader decodes the JSON header into the metadata map and the tensor
// entries, rejecting duplicate keys, unknown fields, non-F32 dtypes and
// malformed shapes or offsets.
func parseHeader(header []byte) (map[string]string, map[string]tensorInfo, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, errors.New("header does not start with '{' (not a safetensors file?)")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %v", err)
	}
	var meta map[string]string
	tensors := make(map[string]tensorInfo)
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("header JSON: unexpected %v", tok)
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("header has key %q twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("header JSON at %q: %v", key, err)
		}
		if key == "__metadata__" {
			if err := strictUnmarshal(raw, &meta); err != nil || meta == nil {
				return nil, nil, fmt.Errorf("__metadata__ must map strings to strings: %s", jsonErr(err, raw))
			}
			continue
		}
		var t tensorInfo
		if err := strictUnmarshal(raw, &t); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: bad entry: %s", key, jsonErr(err, raw))
		}
		if dtypeSize(t.Dtype) == 0 {
			return nil, nil, fmt.Errorf("tensor %q has dtype %q; only F32 (and I8 in int8 predictor files) is supported", key, t.Dtype)
		}
		if len(t.DataOffsets) != 2 {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets has %d values, want [begin, end]", key, len(t.DataOffsets))
		}
		if t.Shape == nil {
			return nil, nil, fmt.Errorf("tensor %q has no shape", key)
		}
		tensors[key] = t
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("header JSON: %v", err)
	}
	// Only the spaces safetensors pads with may follow the object.
	rest := header[dec.InputOffset():]
	if len(bytes.Trim(rest, " ")) != 0 {
		return nil, nil, errors.New("header has bytes other than space padding after its JSON object")
	}
	if meta == nil {
		return nil, nil, errors.New("header has no __metadata__, so no architecture (not a simdmlp model file?)")
	}
	return meta, tensors, nil
}

func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func jsonErr(err error, raw []byte) string {
	if err != nil {
		return err.Error()
	}
	return "got " + clip(string(raw))
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return strconv.Quote(s[:60]) + "…"
	}
	return strconv.Quote(s)
}

// checkOffsets checks that every tensor's byte range lies inside the
// dataLen bytes of data, matches its shape, and that together they cover
// the data exactly, as the safetensors format requires.
func checkOffsets(tensors map[string]tensorInfo, dataLen int64) error {
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(tensors))
	for n, t := range tensors {
		b, e := t.DataOffsets[0], t.DataOffsets[1]
		if b < 0 || e < b || e > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] are not inside the %d data bytes", n, b, e, dataLen)
		}
		nb := dtypeSize(t.Dtype)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("tensor %q: shape %v has a negative dimension", n, t.Shape)
			}
			if d != 0 && nb > dataLen/d {
				return fmt.Errorf("tensor %q: shape %v needs more bytes than the file has", n, t.Shape)
			}
			nb *= d
		}
		if nb != e-b {
			return fmt.Errorf("tensor %q: shape %v needs %d bytes of %s, data_offsets [%d, %d] give %d", n, t.Shape, nb, t.Dtype, b, e, e-b)
		}
		spans = append(spans, span{n, b, e})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		return cmp.Compare(a.end, b.end)
	})
	var at int64
	for _, s := range spans {
		switch {
		case s.begin < at:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", s.name, s.begin, s.end, at)
		case s.begin > at:
			return fmt.Errorf("data bytes [%d, %d) belong to no tensor (a gap before %q)", at, s.begin, s.name)
		}
		at = s.end
	}
	if at != dataLen {
		return fmt.Errorf("data bytes [%d, %d) belong to no tensor (trailing bytes)", at, dataLen)
	}
	return nil
}

// arch is the architecture read from a file's metadata.
type arch struct {
	name    string
	inShape []int
	layers  []layerSpec
}

func parseArch(meta map[string]string) (*arch, error) {
	if f, ok := meta[metaFormat]; !ok || f != FormatName {
		return nil, fmt.Errorf("__metadata__ %q is %q, want %q (not a simdmlp model file?)", metaFormat, f, FormatName)
	}
	v, ok := meta[metaVersion]
	if !ok {
		return nil, fmt.Errorf("__metadata__ has no %q", metaVersion)
	}
	if v != FormatVersion {
		return nil, fmt.Errorf("format version %q is not supported (this build reads %q)", v, FormatVersion)
	}
	a := &arch{name: meta[metaName]}
	if a.name == "" {
		return nil, fmt.Errorf("__metadata__ %q is missing or empty", metaName)
	}
	s, ok := meta[metaInputShape]
	if !ok {
		return nil, fmt.Errorf("__metadata__ has no %q", metaInputShape)
	}
	if err := strictUnmarshal([]byte(s), &a.inShape); err != nil || len(a.inShape) == 0 {
		return nil, fmt.Errorf("__metadata__ %q = %s is not a list of dimensions", metaInputShape, clip(s))
	}
	if _, ok := product(a.inShape); !ok {
		return nil, fmt.Errorf("input shape %v: every dimension must be positive and the size below 2³¹", a.inShape)
	}
	s, ok = meta[metaLayers]
	if !ok {
		return nil, fmt.Errorf("__metadata__ has no %q", metaLayers)
	}
	if err := strictUnmarshal([]byte(s), &a.layers); err != nil {
		return nil, fmt.Errorf("__metadata__ %q is not a list of layers: %v", metaLayers, err)
	}
	if len(a.layers) == 0 {
		return nil, fmt.Errorf("__metadata__ %q lists no layers", metaLayers)
	}
	for i, l := range a.layers {
		if l.Name == "" {
			return nil, fmt.Errorf("layer %d has no name", i)
		}
		switch l.ClassName {
		case "Dense":
			if l.Units <= 0 {
				return nil, fmt.Errorf("layer %q: Dense units = %d, must be positive", l.Name, l.Units)
			}
			if _, err := kernels.ParseActivation(l.Activation); err != nil {
				return nil, fmt.Errorf("layer %q: %w", l.Name, err)
			}
		case "Flatten":
			if l.Units != 0 || l.Activation != "" || l.Rate != 0 || l.Seed != 0 {
				return nil, fmt.Errorf("layer %q: a Flatten layer has no units, activation, rate or seed", l.Name)
			}
		case "Dropout":
			if l.Units != 0 || l.Activation != "" {
				return nil, fmt.Errorf("layer %q: a Dropout layer has no units or activation", l.Name)
			}
			if !(l.Rate >= 0 && l.Rate < 1) {
				return nil, fmt.Errorf("layer %q: Dropout rate = %v, must be in [0, 1)", l.Name, l.Rate)
			}
		default:
			return nil, fmt.Errorf("layer %q: class %q is not supported (Dense, Flatten and Dropout are)", l.Name, l.ClassName)
		}
	}
	return a, nil
}

// weightShapes returns the name and shape of every weight tensor the
// architecture has, without allocating the weights.
func (a *arch) weightShapes() (map[string][]int64, error) {
	want := make(map[string][]int64)
	dims := a.inShape
	for _, l := range a.layers {
		n, _ := product(dims)
		if l.ClassName == "Dropout" {
			continue
		}
		if l.ClassName == "Flatten" {
			dims = []int{n}
			continue
		}
		if len(dims) != 1 {
			return nil, fmt.Errorf("layer %q: Dense needs a flat input, got shape %v; a Flatten layer must come first", l.Name, dims)
		}
		if _, ok := product([]int{n + 1, l.Units}); !ok {
			return nil, fmt.Errorf("layer %q: Dense %d→%d is too large", l.Name, n, l.Units)
		}
		for _, k := range []string{"/kernel", "/bias"} {
			if _, dup := want[l.Name+k]; dup {
				return nil, fmt.Errorf("layer name %q is used twice", l.Name)
			}
		}
		want[l.Name+"/kernel"] = []int64{int64(n), int64(l.Units)}
		want[l.Name+"/bias"] = []int64{int64(l.Units)}
		dims = []int{l.Units}
	}
	if len(want) == 0 {
		return nil, errors.New("the architecture has no Dense layer")
	}
	return want, nil
}
