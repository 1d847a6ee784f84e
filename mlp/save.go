package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/optim"
)

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
