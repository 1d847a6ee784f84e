package mlp

import (
	"fmt"
	"os"
	"strings"
)

// LoadWeights reads the weights of a file written by SaveWeights (or Save)
// into the model, as Keras's load_weights: the layers with weights are
// matched in order, not by name, so a model built again by the same code
// (whose layers have new automatic names) takes the weights of the one
// that was saved. The number of Dense layers and every kernel's shape must
// agree; otherwise the error says what the file holds and what the model
// needs, and the model is unchanged. The file's compile state, if any, is
// ignored: the model keeps its own. An unbuilt model is first built for
// the file's input shape.
func (m *Sequential) LoadWeights(path string) error {
	if m.err != nil {
		return m.err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mlp: LoadWeights: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("mlp: LoadWeights: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("mlp: LoadWeights %s: not a regular file", path)
	}
	src, err := loadFrom(f, fi.Size())
	if err != nil {
		return fmt.Errorf("mlp: LoadWeights %s: %v", path, err)
	}
	if err := m.acquire("LoadWeights"); err != nil {
		return err
	}
	defer m.release()
	if !m.built {
		if err := m.build(src.inShape); err != nil {
			return fmt.Errorf("mlp: LoadWeights %s: building the model for the file's input shape %s: %w", path, pyTuple(src.inShape), err)
		}
	}
	if err := sameWeightLayers(src, m); err != nil {
		return fmt.Errorf("mlp: LoadWeights %s: %w", path, err)
	}
	for i, l := range m.dense {
		copy(l.w, src.dense[i].w)
		copy(l.b, src.dense[i].b)
	}
	return nil
}

// sameWeightLayers reports how the layers with weights of src (a file's)
// and m differ, or nil when they have the same shapes in the same order.
func sameWeightLayers(src, m *Sequential) error {
	if len(src.dense) != len(m.dense) {
		return fmt.Errorf("the file has %d layers with weights (%s), model %q has %d (%s)",
			len(src.dense), describeDense(src.dense), m.name, len(m.dense), describeDense(m.dense))
	}
	for i, l := range m.dense {
		s := src.dense[i]
		if s.in != l.in || s.units != l.units {
			return fmt.Errorf("layer with weights %d: the file's %q has kernel %s, model %q's %q needs %s",
				i, s.name, pyTuple([]int{s.in, s.units}), m.name, l.name, pyTuple([]int{l.in, l.units}))
		}
	}
	return nil
}

// describeDense lists Dense layers as "dense 784→100, dense_1 100→10".
func describeDense(ls []*Layer) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s %d→%d", l.name, l.in, l.units)
	}
	return strings.Join(parts, ", ")
}
