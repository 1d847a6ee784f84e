package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/optim"
)

// saveTensor is one tensor of a model file, in file order.
type saveTensor struct {
	name  string
	shape []int
	data  []float32
	// codes, when not nil, are the tensor's int8 values (dtype I8), and
	// data is unused.
	codes []int8
}

// SaveOptions holds SaveWith's arguments; the zero value is Save's.
type SaveOptions struct {
	// ExcludeOptimizer leaves the compile state out of the file, as
	// Keras's include_optimizer=False: Load then returns the model
	// uncompiled. By default a compiled model is saved with it (see Save).
	ExcludeOptimizer bool
	// IncludeOptimizer asks for what Save now does by default; it is
	// kept so that programs written before that still compile. With it,
	// saving a model that is not compiled is an error, as it always was.
	//
	// Deprecated: the optimizer is saved by default; leave this unset.
	IncludeOptimizer bool
}

// Save writes the model to path as one safetensors file: its weights, named
// like Keras's ("dense/kernel", "dense/bias", with the model's layer names)
// in Keras's layout (kernels in×units, row-major float32), and its
// architecture and format version in the metadata. As Keras's model.save,
// it keeps a compiled model's compile state by default: the loss, the
// metric, the optimizer's configuration and iteration count, and each of
// the optimizer's slots as one tensor per weight, named like Keras's
// optimizer variables ("optimizer/dense/kernel/m"). Load then returns the
// model compiled, ready to Evaluate and to continue Fit where it stopped.
// SaveWith with ExcludeOptimizer leaves the optimizer out; a model that
// was never compiled is saved without one.
//
// The file format is safetensors, whatever the name: a path ending in .h5,
// .hdf5 or .keras (Keras's own formats, which this package does not write)
// is an error, so that no program mistakes the file for Keras's. Use
// .safetensors.
//
// The file is written to a temporary file in the same directory, synced,
// and renamed over path, so a failure or a crash leaves any previous file
// at path whole. A failed Save removes its temporary file; one left by a
// process that was killed while saving is removed by the next Save to the
// same path. The model must be built, hold at least one Dense layer and
// only finite weights: a weight that is NaN or ±Inf (a run that diverged)
// is an error naming its tensor, and the file is left as it was.
func (m *Sequential) Save(path string) error { return m.SaveWith(path, SaveOptions{}) }

// SaveWith is Save with options: ExcludeOptimizer saves the model without
// its compile state.
func (m *Sequential) SaveWith(path string, opts SaveOptions) error {
	if m.err != nil {
		return m.err
	}
	if err := m.acquire("Save"); err != nil {
		return err
	}
	defer m.release()
	return m.save(path, opts)
}

// SaveWeights writes only the model's weights to path, as Keras's
// save_weights: the file is Save's without the compile state (the layer
// names and architecture stay in it, so Load can read it too), for
// LoadWeights into a model of the same architecture. The path rules and
// the atomic write are Save's.
func (m *Sequential) SaveWeights(path string) error {
	return m.SaveWith(path, SaveOptions{ExcludeOptimizer: true})
}

// kerasFormats are the file name endings of Keras's own model formats,
// which Save refuses rather than write safetensors under their names.
var kerasFormats = []string{".h5", ".hdf5", ".keras"}

// checkSavePath refuses a name that promises a Keras file.
func checkSavePath(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if slices.Contains(kerasFormats, ext) {
		return fmt.Errorf("%q ends in %s, a Keras format, but simdmlp writes safetensors files (Keras's HDF5 and .keras formats are not written); name it %s",
			path, ext, strings.TrimSuffix(path, filepath.Ext(path))+".safetensors")
	}
	return nil
}

// save is SaveWith for a caller that holds the model.
func (m *Sequential) save(path string, opts SaveOptions) error {
	if opts.ExcludeOptimizer && opts.IncludeOptimizer {
		return fmt.Errorf("mlp: Save %s: ExcludeOptimizer and IncludeOptimizer contradict each other", path)
	}
	if err := checkSavePath(path); err != nil {
		return fmt.Errorf("mlp: Save: %w", err)
	}
	if !m.built {
		return fmt.Errorf("mlp: Save %s: %w", path, ErrNotBuilt)
	}
	if len(m.dense) == 0 {
		return fmt.Errorf("mlp: Save %s: model %q has no Dense layer, so no weights to save", path, m.name)
	}
	var tensors []saveTensor
	for _, l := range m.dense {
		tensors = append(tensors,
			saveTensor{name: l.name + "/kernel", shape: []int{l.in, l.units}, data: l.w},
			saveTensor{name: l.name + "/bias", shape: []int{l.units}, data: l.b})
	}
	var training []byte
	if opts.IncludeOptimizer || (m.compiled && !opts.ExcludeOptimizer) {
		var slots []saveTensor
		var err error
		training, slots, err = m.trainingState()
		if err != nil {
			return fmt.Errorf("mlp: Save %s: %w", path, err)
		}
		tensors = append(tensors, slots...)
	}
	if err := checkFinite(tensors); err != nil {
		return fmt.Errorf("mlp: Save %s: %w", path, err)
	}
	header, err := m.fileHeader(tensors, training)
	if err != nil {
		return fmt.Errorf("mlp: Save %s: %w", path, err)
	}
	if err := writeFile(path, header, tensors); err != nil {
		return fmt.Errorf("mlp: Save: %w", err)
	}
	return nil
}

// checkFinite refuses NaN and ±Inf in the tensors, as Load does, before
// a file is touched: a diverged model must not replace a good one.
func checkFinite(tensors []saveTensor) error {
	for _, st := range tensors {
		for i, v := range st.data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q holds %v at index %d (did training diverge?); the file was not written", st.name, v, i)
			}
		}
	}
	return nil
}

// writeFile writes header and then the tensors' bytes to path atomically
// (see Save).
func writeFile(path string, header []byte, tensors []saveTensor) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		var buf [4096]byte
		for _, st := range tensors {
			for c := st.codes; len(c) > 0; {
				k := min(len(c), len(buf))
				for i, v := range c[:k] {
					buf[i] = byte(v)
				}
				if _, err := w.Write(buf[:k]); err != nil {
					return err
				}
				c = c[k:]
			}
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
		return nil, nil, fmt.Errorf("the state of optimizer %s (%T) cannot be saved; save with ExcludeOptimizer", m.opt.Name(), m.opt)
	}
	class, cfg, err := optim.MarshalConfig(m.opt)
	if err != nil {
		return nil, nil, fmt.Errorf("the optimizer's configuration: %w; save with ExcludeOptimizer", err)
	}
	st := r.State()
	spec := trainingSpec{
		Loss:       m.loss,
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
				saveTensor{name: optimizerTensor(l.name+"/kernel", sl.Name), shape: []int{l.in, l.units}, data: sl.Values[2*i]},
				saveTensor{name: optimizerTensor(l.name+"/bias", sl.Name), shape: []int{l.units}, data: sl.Values[2*i+1]})
		}
	}
	return meta, slots, nil
}

// fileHeader returns the 8-byte length and the padded JSON header. The
// keys are written in a fixed order (metadata, then the tensors in file
// order: the weights in Keras's order, then any optimizer slots) so that
// the same model always gives the same bytes.
func (m *Sequential) fileHeader(tensors []saveTensor, training []byte) ([]byte, error) {
	meta, err := archMeta(m.name, m.inShape, m.layerSpecs())
	if err != nil {
		return nil, err
	}
	if training != nil {
		meta = append(meta, [2]string{metaTraining, string(training)})
	}
	return writeHeader(meta, tensors), nil
}

// layerSpecs describes the model's layers as a file lists them.
func (m *Sequential) layerSpecs() []layerSpec {
	specs := make([]layerSpec, len(m.layers))
	for i, l := range m.layers {
		specs[i] = layerSpec{ClassName: l.ClassName(), Name: l.name}
		switch l.kind {
		case kindDense:
			specs[i].Units, specs[i].Activation = l.units, l.act.String()
		case kindDropout:
			specs[i].Rate, specs[i].Seed = l.rate, l.seed
		}
	}
	return specs
}

// archMeta returns the metadata entries that describe a model: format,
// version, name, input shape and layers, in the order files have them.
func archMeta(name string, inShape []int, specs []layerSpec) ([][2]string, error) {
	layers, err := json.Marshal(specs)
	if err != nil {
		return nil, err
	}
	shape, err := json.Marshal(inShape)
	if err != nil {
		return nil, err
	}
	return [][2]string{
		{metaFormat, FormatName},
		{metaVersion, FormatVersion},
		{metaName, name},
		{metaInputShape, string(shape)},
		{metaLayers, string(layers)},
	}, nil
}

// writeHeader returns the 8-byte length and the padded JSON header of a
// file with the metadata meta and the tensors, in order.
func writeHeader(meta [][2]string, tensors []saveTensor) []byte {
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
		dtype, n := "F32", 4*int64(len(t.data))
		if t.codes != nil {
			dtype, n = "I8", int64(len(t.codes))
		}
		b.WriteByte(',')
		writeJSONString(&b, t.name)
		fmt.Fprintf(&b, `:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, dtype, jsonInts(t.shape), off, off+n)
		off += n
	}
	b.WriteByte('}')
	for (8+b.Len())%8 != 0 {
		b.WriteByte(' ')
	}
	out := make([]byte, 8, 8+b.Len())
	binary.LittleEndian.PutUint64(out, uint64(b.Len()))
	return append(out, b.Bytes()...)
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

func jsonInts(s []int) string {
	q, _ := json.Marshal(s)
	return string(q)
}
