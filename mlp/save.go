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

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// The model file is a safetensors file: an 8-byte little-endian header
// length N, N bytes of JSON header (padded with spaces to a multiple of 8
// bytes so that the data start aligned), then the tensors' bytes. The
// header maps each tensor name to its dtype, shape and [begin, end) byte
// offsets relative to the first data byte, and "__metadata__" to a map of
// strings, where we keep the architecture.
const (
	// FormatName is the value of the "format" metadata key of a model file.
	FormatName = "simdmlp"
	// FormatVersion is the version written to the "format_version"
	// metadata key; Load accepts only versions it knows.
	FormatVersion = "1"

	// maxHeader caps the JSON header as the safetensors package does,
	// so that a corrupt length cannot make Load allocate gigabytes.
	maxHeader = 100_000_000
)

// Metadata keys of a model file. Values are strings, as safetensors
// requires; the lists are JSON text.
const (
	metaFormat     = "format"         // FormatName
	metaVersion    = "format_version" // FormatVersion
	metaName       = "model_name"     // the Sequential's name
	metaInputShape = "input_shape"    // JSON list: one sample's shape, e.g. [28, 28]
	metaLayers     = "layers"         // JSON list of layerSpec
	// metaTraining, present when the optimizer was saved, is a JSON
	// trainingSpec; the slots are then tensors named
	// "optimizer/<weight>/<slot>" (optimizerTensor).
	metaTraining = "training_config"
)

// trainingSpec is the compile configuration and optimizer position saved
// with the optimizer's slots, in the "training_config" metadata.
type trainingSpec struct {
	Loss       string        `json:"loss"`
	Metrics    []string      `json:"metrics"`
	Optimizer  optimizerSpec `json:"optimizer_config"`
	Iterations int64         `json:"iterations"`
}

type optimizerSpec struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// optimizerTensor names a slot's tensor for a weight ("dense/kernel") as
// Keras's optimizer variables are named: "optimizer/dense/kernel/m".
func optimizerTensor(weight, slot string) string { return "optimizer/" + weight + "/" + slot }

// saveTensor is one tensor of a model file, in file order.
type saveTensor struct {
	name  string
	shape []int
	data  []float32
}

// SaveOptions holds SaveWith's arguments; the zero value is Save's.
type SaveOptions struct {
	// IncludeOptimizer also saves what training needs to resume
	// exactly, as Keras's include_optimizer: the compile configuration
	// (optimizer class and arguments, loss, metric) and the optimizer's
	// iteration count in the "training_config" metadata, and each of
	// its slots as one tensor per weight, named like Keras's optimizer
	// variables ("optimizer/dense/kernel/m"). The model must be
	// compiled with one of package optim's optimizers. Load then returns
	// the model compiled, with the optimizer where it stopped.
	IncludeOptimizer bool
}

// layerSpec describes one layer in the "layers" metadata, with Keras's
// class names and activation strings.
type layerSpec struct {
	ClassName  string `json:"class_name"`
	Name       string `json:"name"`
	Units      int    `json:"units,omitempty"`
	Activation string `json:"activation,omitempty"`
}

// tensorInfo is one tensor's header entry, as the safetensors format
// defines it.
type tensorInfo struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Save writes the model to path as one safetensors file: its weights, named
// like Keras's ("dense/kernel", "dense/bias", with the model's layer names)
// in Keras's layout (kernels in×units, row-major float32), and its
// architecture and format version in the metadata. The optimizer state is
// not saved (see SaveWith): a loaded model must be compiled again before
// training, and its optimizer starts afresh.
//
// The file is written to a temporary file in the same directory, synced,
// and renamed over path, so a failure or a crash leaves any previous file
// at path whole. A failed Save removes its temporary file; one left by a
// process that was killed while saving is removed by the next Save to the
// same path. The model must be built, hold at least one Dense layer and
// only finite weights: a weight that is NaN or ±Inf (a run that diverged)
// is an error naming its tensor, and the file is left as it was.
func (m *Sequential) Save(path string) error { return m.SaveWith(path, SaveOptions{}) }

// SaveWith is Save with options: with IncludeOptimizer it also saves the
// optimizer, so that training resumes exactly after Load.
func (m *Sequential) SaveWith(path string, opts SaveOptions) error {
	if m.err != nil {
		return m.err
	}
	if !m.built {
		return fmt.Errorf("mlp: Save %s: %w", path, ErrNotBuilt)
	}
	if len(m.dense) == 0 {
		return fmt.Errorf("mlp: Save %s: model %q has no Dense layer, so no weights to save", path, m.name)
	}
	if err := m.acquire("Save"); err != nil {
		return err
	}
	defer m.release()
	var tensors []saveTensor
	for _, l := range m.dense {
		tensors = append(tensors,
			saveTensor{l.name + "/kernel", []int{l.in, l.units}, l.w},
			saveTensor{l.name + "/bias", []int{l.units}, l.b})
	}
	var training []byte
	if opts.IncludeOptimizer {
		var slots []saveTensor
		var err error
		training, slots, err = m.trainingState()
		if err != nil {
			return fmt.Errorf("mlp: Save %s: %w", path, err)
		}
		tensors = append(tensors, slots...)
	}
	// Load refuses NaN and ±Inf, so Save does too, before it touches
	// the file: a diverged model must not replace a good one.
	for _, st := range tensors {
		for i, v := range st.data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("mlp: Save %s: tensor %q holds %v at index %d (did training diverge?); the file was not written",
					path, st.name, v, i)
			}
		}
	}
	header, err := m.fileHeader(tensors, training)
	if err != nil {
		return fmt.Errorf("mlp: Save %s: %w", path, err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		var buf [4096]byte
		for _, st := range tensors {
			for t := st.data; len(t) > 0; {
				k := min(len(t), len(buf)/4)
				for i, v := range t[:k] {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
				if _, err := w.Write(buf[:4*k]); err != nil {
					return err
				}
				t = t[k:]
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mlp: Save: %w", err)
	}
	return nil
}

// trainingState returns the "training_config" metadata and the slot
// tensors of the model's optimizer, slot by slot, each in weight order.
// A compiled model that has not trained yet saves its optimizer's initial
// state.
func (m *Sequential) trainingState() ([]byte, []saveTensor, error) {
	if !m.compiled {
		return nil, nil, fmt.Errorf("IncludeOptimizer: model %q is not compiled, so it has no optimizer", m.name)
	}
	up := m.updater
	if up == nil {
		var err error
		if up, err = m.opt.Build(m.paramSizes()); err != nil {
			return nil, nil, err
		}
	}
	r, ok := up.(optim.Resumable)
	if !ok {
		return nil, nil, fmt.Errorf("IncludeOptimizer: the state of optimizer %s (%T) cannot be saved", m.opt.Name(), m.opt)
	}
	class, cfg, err := optim.MarshalConfig(m.opt)
	if err != nil {
		return nil, nil, fmt.Errorf("IncludeOptimizer: %w", err)
	}
	st := r.State()
	spec := trainingSpec{
		Loss:       "sparse_categorical_crossentropy",
		Metrics:    []string{},
		Optimizer:  optimizerSpec{ClassName: class, Config: cfg},
		Iterations: st.Iterations,
	}
	if m.metric != "" {
		spec.Metrics = append(spec.Metrics, m.metric)
	}
	meta, err := json.Marshal(spec)
	if err != nil {
		return nil, nil, err
	}
	var slots []saveTensor
	for _, sl := range st.Slots {
		for i, l := range m.dense {
			slots = append(slots,
				saveTensor{optimizerTensor(l.name+"/kernel", sl.Name), []int{l.in, l.units}, sl.Values[2*i]},
				saveTensor{optimizerTensor(l.name+"/bias", sl.Name), []int{l.units}, sl.Values[2*i+1]})
		}
	}
	return meta, slots, nil
}

// fileHeader returns the 8-byte length and the padded JSON header. The
// keys are written in a fixed order (metadata, then the tensors in file
// order: the weights in Keras's order, then any optimizer slots) so that
// the same model always gives the same bytes.
func (m *Sequential) fileHeader(tensors []saveTensor, training []byte) ([]byte, error) {
	specs := make([]layerSpec, len(m.layers))
	for i, l := range m.layers {
		specs[i] = layerSpec{ClassName: l.ClassName(), Name: l.name}
		if l.kind == kindDense {
			specs[i].Units, specs[i].Activation = l.units, l.act.String()
		}
	}
	layers, err := json.Marshal(specs)
	if err != nil {
		return nil, err
	}
	shape, err := json.Marshal(m.inShape)
	if err != nil {
		return nil, err
	}
	meta := [][2]string{
		{metaFormat, FormatName},
		{metaVersion, FormatVersion},
		{metaName, m.name},
		{metaInputShape, string(shape)},
		{metaLayers, string(layers)},
	}
	if training != nil {
		meta = append(meta, [2]string{metaTraining, string(training)})
	}
	var b bytes.Buffer
	b.WriteString(`{"__metadata__":{`)
	for i, kv := range meta {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, kv[0])
		b.WriteByte(':')
		writeJSONString(&b, kv[1])
	}
	b.WriteByte('}')
	var off int64
	for _, t := range tensors {
		n := 4 * int64(len(t.data))
		b.WriteByte(',')
		writeJSONString(&b, t.name)
		fmt.Fprintf(&b, `:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, jsonInts(t.shape), off, off+n)
		off += n
	}
	b.WriteByte('}')
	for (8+b.Len())%8 != 0 {
		b.WriteByte(' ')
	}
	out := make([]byte, 8, 8+b.Len())
	binary.LittleEndian.PutUint64(out, uint64(b.Len()))
	return append(out, b.Bytes()...), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

func jsonInts(s []int) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// Load reads a model written by Save (or by any program following the same
// layout; see the package documentation for a Keras model) and returns it
// built with the saved weights, uncompiled; a file written by SaveWith
// with IncludeOptimizer gives the model compiled as it was, its optimizer
// holding the saved iteration count and slots. Every part of the file is
// checked before it is used: header length, JSON syntax, format version,
// architecture, tensor names, dtypes (F32 only), shapes against the
// architecture, and byte offsets (inside the data, in any order, covering
// it without gaps or overlaps). An error names the file and the fault.
//
// Loading does not advance the automatic name counters: the model and its
// layers keep their saved names.
func Load(path string) (*Sequential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mlp: Load: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mlp: Load: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("mlp: Load %s: not a regular file", path)
	}
	return load(path, f, fi.Size())
}

// load reads a model file of size bytes from r; name is used in errors.
func load(name string, r io.Reader, size int64) (*Sequential, error) {
	fail := func(format string, a ...any) (*Sequential, error) {
		return nil, fmt.Errorf("mlp: Load %s: "+format, append([]any{name}, a...)...)
	}
	if size < 8 {
		return fail("file is %d bytes, too short for a safetensors header", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return fail("reading header length: %v", err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxHeader {
		return fail("header length %d exceeds the %d-byte limit (not a safetensors file?)", hlen, maxHeader)
	}
	if hlen > uint64(size-8) {
		return fail("header length %d exceeds the %d bytes after the length field (truncated file?)", hlen, size-8)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return fail("reading %d-byte header: %v", hlen, err)
	}
	dataLen := size - 8 - int64(hlen)

	meta, tensors, err := parseHeader(header)
	if err != nil {
		return fail("%v", err)
	}
	if err := checkOffsets(tensors, dataLen); err != nil {
		return fail("%v", err)
	}
	arch, err := parseArch(meta)
	if err != nil {
		return fail("%v", err)
	}
	var training *trainingSpec
	var opt optim.Optimizer
	if t, ok := meta[metaTraining]; ok {
		if training, opt, err = parseTraining(t); err != nil {
			return fail("%v", err)
		}
	}
	// Compare the tensors with the architecture before building: the
	// weights are allocated only for shapes the file's own bytes account
	// for, so a forged header cannot ask for more memory than the file has.
	want, err := arch.weightShapes()
	if err != nil {
		return fail("%v", err)
	}
	if len(tensors) != len(want) {
		var extra []string
		for n := range tensors {
			// The optimizer's tensors are checked once it is built.
			if _, ok := want[n]; !ok && (training == nil || !strings.HasPrefix(n, "optimizer/")) {
				extra = append(extra, strconv.Quote(n))
			}
		}
		slices.Sort(extra)
		if len(extra) > 0 {
			return fail("unexpected tensors %s: the architecture has %d weight tensors", strings.Join(extra, ", "), len(want))
		}
	}
	for n, s := range want {
		t, ok := tensors[n]
		if !ok {
			return fail("tensor %q is missing", n)
		}
		if !slices.Equal(t.Shape, s) {
			return fail("tensor %q has shape %v, the architecture needs %v", n, t.Shape, s)
		}
	}

	layers := make([]*Layer, len(arch.layers))
	for i, s := range arch.layers {
		if s.ClassName == "Dense" {
			layers[i] = Dense(s.Units, s.Activation, Name(s.Name))
		} else {
			layers[i] = Flatten(Name(s.Name))
		}
	}
	m := NewSequential(arch.name, layers...)
	if err := m.Err(); err != nil {
		return fail("architecture: %v", err)
	}
	if err := m.Build(arch.inShape...); err != nil {
		return fail("architecture: %v", err)
	}

	// Read the data in file order, so that r need not seek.
	dst := make(map[string][]float32, len(tensors))
	for _, l := range m.dense {
		dst[l.name+"/kernel"], dst[l.name+"/bias"] = l.w, l.b
	}
	var resume optim.Resumable
	var slots []optim.Slot
	if training != nil {
		if err := m.Compile(opt, training.Loss, training.Metrics...); err != nil {
			return fail("%s: %v", metaTraining, err)
		}
		if err := m.prepareTraining(); err != nil {
			return fail("%s: %v", metaTraining, err)
		}
		var ok bool
		if resume, ok = m.updater.(optim.Resumable); !ok {
			return fail("%s: optimizer %s cannot take a saved state", metaTraining, opt.Name())
		}
		// The slot tensors are read straight into the new optimizer's
		// arrays, then checked by SetState.
		slots = resume.State().Slots
		for _, sl := range slots {
			for i, l := range m.dense {
				for k, w := range []string{l.name + "/kernel", l.name + "/bias"} {
					n := optimizerTensor(w, sl.Name)
					t, ok := tensors[n]
					if !ok {
						return fail("tensor %q is missing: optimizer %s has slot %q", n, opt.Name(), sl.Name)
					}
					v := sl.Values[2*i+k]
					if want := want[w]; !slices.Equal(t.Shape, want) {
						return fail("tensor %q has shape %v, its weight has %v", n, t.Shape, want)
					}
					dst[n] = v
				}
			}
		}
	}
	if len(dst) != len(tensors) {
		var extra []string
		for n := range tensors {
			if _, ok := dst[n]; !ok {
				extra = append(extra, strconv.Quote(n))
			}
		}
		slices.Sort(extra)
		return fail("unexpected tensors %s: optimizer %s has no such slots", strings.Join(extra, ", "), opt.Name())
	}
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
		t := dst[n]
		for i := 0; i < len(t); {
			k := min(len(t)-i, len(buf)/4)
			if _, err := io.ReadFull(br, buf[:4*k]); err != nil {
				return fail("reading tensor %q: %v", n, err)
			}
			for j := range k {
				v := math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fail("tensor %q holds %v at index %d", n, v, i+j)
				}
				t[i+j] = v
			}
			i += k
		}
	}
	if resume != nil {
		if err := resume.SetState(optim.State{Iterations: training.Iterations, Slots: slots}); err != nil {
			return fail("%v", err)
		}
	}
	return m, nil
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
		if t.Dtype != "F32" {
			return nil, nil, fmt.Errorf("tensor %q has dtype %q; only F32 is supported", key, t.Dtype)
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
		nb := int64(4)
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
			return fmt.Errorf("tensor %q: shape %v needs %d bytes of F32, data_offsets [%d, %d] give %d", n, t.Shape, nb, b, e, e-b)
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
			if l.Units != 0 || l.Activation != "" {
				return nil, fmt.Errorf("layer %q: a Flatten layer has no units or activation", l.Name)
			}
		default:
			return nil, fmt.Errorf("layer %q: class %q is not supported (Dense and Flatten are)", l.Name, l.ClassName)
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
