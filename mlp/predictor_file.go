package mlp

import (
	"fmt"
	"io"
	"slices"

	"github.com/simdmlp/simdmlp/kernels"
)

// Save writes the predictor to path as one safetensors file, with Save's
// path rules and atomic write. A float32 predictor's file is a model file
// without compile state (Load reads it as an uncompiled model); an int8
// one's holds each Dense kernel as an I8 tensor "<layer>/kernel" of its
// codes (in×units, row-major) beside an F32 tensor "<layer>/kernel_scale"
// of one scale per unit, the biases as F32, and the metadata key
// "quantization" = "int8". LoadPredictor reads either kind. A weight that
// is NaN or ±Inf is an error naming its tensor, and the file is left as
// it was.
func (p *Predictor) Save(path string) error {
	if err := checkSavePath(path); err != nil {
		return fmt.Errorf("mlp: Predictor.Save: %w", err)
	}
	meta, err := archMeta(p.name, p.inShape, p.specs)
	if err != nil {
		return fmt.Errorf("mlp: Predictor.Save %s: %w", path, err)
	}
	var tensors []saveTensor
	for _, l := range p.layers {
		if l.q != nil {
			tensors = append(tensors,
				saveTensor{name: l.name + "/kernel", shape: []int{l.in, l.units}, codes: l.q.Codes()},
				saveTensor{name: l.name + "/kernel_scale", shape: []int{l.units}, data: l.q.Scales()})
		} else {
			tensors = append(tensors, saveTensor{name: l.name + "/kernel", shape: []int{l.in, l.units}, data: l.w})
		}
		tensors = append(tensors, saveTensor{name: l.name + "/bias", shape: []int{l.units}, data: l.b})
	}
	if err := checkFinite(tensors); err != nil {
		return fmt.Errorf("mlp: Predictor.Save %s: %w", path, err)
	}
	if p.int8 {
		meta = append(meta, [2]string{metaQuantization, "int8"})
	}
	if err := writeFile(path, writeHeader(meta, tensors), tensors); err != nil {
		return fmt.Errorf("mlp: Predictor.Save: %w", err)
	}
	return nil
}

// LoadPredictor reads a predictor from path: an int8 predictor file
// written by Predictor.Save of a QuantizedPredictor, or any model file
// Load reads (a float32 Predictor's file, a Save or SaveWeights file),
// which gives the model's float32 Predictor. Every part of an int8 file is
// checked before use as Load checks a model file, and also the tensors'
// dtypes (I8 kernels, F32 scales and biases), codes of -128 (outside the
// symmetric range) and scales that are negative or not finite. An error
// names the file and the fault.
func LoadPredictor(path string) (*Predictor, error) {
	f, size, err := openRegular("LoadPredictor", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return loadPredictor(path, f, size)
}

// loadPredictor is LoadPredictor on a file of size bytes read from r;
// name is used in errors.
func loadPredictor(name string, r io.Reader, size int64) (*Predictor, error) {
	p, err := loadPredictorFrom(r, size)
	if err != nil {
		return nil, fmt.Errorf("mlp: LoadPredictor %s: %v", name, err)
	}
	return p, nil
}

func loadPredictorFrom(r io.Reader, size int64) (*Predictor, error) {
	header, dataLen, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	meta, tensors, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if _, ok := meta[metaQuantization]; ok {
		return readInt8Predictor(r, meta, tensors, dataLen)
	}
	m, err := loadParsed(r, meta, tensors, dataLen) // a model file
	if err != nil {
		return nil, err
	}
	return m.Predictor()
}

// readInt8Predictor reads the tensors of an int8 predictor file, whose
// header has been parsed, from r, positioned at the first data byte.
func readInt8Predictor(r io.Reader, meta map[string]string, tensors map[string]tensorInfo, dataLen int64) (*Predictor, error) {
	if q := meta[metaQuantization]; q != "int8" {
		return nil, fmt.Errorf("__metadata__ %q is %s; this build reads \"int8\"", metaQuantization, clip(q))
	}
	if _, ok := meta[metaTraining]; ok {
		return nil, fmt.Errorf("an int8 predictor file has no %q", metaTraining)
	}
	if err := checkOffsets(tensors, dataLen); err != nil {
		return nil, err
	}
	a, err := parseArch(meta)
	if err != nil {
		return nil, err
	}
	shapes, err := a.weightShapes()
	if err != nil {
		return nil, err
	}
	// The tensors the architecture asks for, with their dtypes and shapes,
	// checked before anything is allocated: the sizes then come from the
	// file's own bytes.
	want := make(map[string]tensorInfo)
	for n, s := range shapes {
		if len(s) == 2 {
			want[n] = tensorInfo{Dtype: "I8", Shape: s}
			want[n+"_scale"] = tensorInfo{Dtype: "F32", Shape: s[1:]}
		} else {
			want[n] = tensorInfo{Dtype: "F32", Shape: s}
		}
	}
	var missing, extra []string
	for n, w := range want {
		t, ok := tensors[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		if t.Dtype != w.Dtype || !slices.Equal(t.Shape, w.Shape) {
			return nil, fmt.Errorf("tensor %q is %s %v, the architecture needs %s %v", n, t.Dtype, t.Shape, w.Dtype, w.Shape)
		}
	}
	for n := range tensors {
		if _, ok := want[n]; !ok {
			extra = append(extra, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing tensors %s", quoteSorted(missing))
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("unexpected tensors %s", quoteSorted(extra))
	}
	p := &Predictor{name: a.name, int8: true, inShape: a.inShape, specs: a.layers, block: int8Batch}
	p.inSize, _ = product(a.inShape)
	f32 := make(map[string][]float32)
	codes := make(map[string][]int8)
	in := p.inSize
	for _, s := range a.layers {
		if s.ClassName != "Dense" {
			continue
		}
		act, _ := kernels.ParseActivation(s.Activation) // parseArch checked it
		if in > kernels.MaxInt8Inputs {
			return nil, fmt.Errorf("layer %q has %d inputs; int8 layers take at most %d", s.Name, in, kernels.MaxInt8Inputs)
		}
		l := predLayer{name: s.Name, in: in, units: s.Units, act: act, b: make([]float32, s.Units)}
		codes[s.Name+"/kernel"] = make([]int8, in*s.Units)
		f32[s.Name+"/kernel_scale"] = make([]float32, s.Units)
		f32[s.Name+"/bias"] = l.b
		p.layers = append(p.layers, l)
		in = s.Units
	}
	if err := readTensors(r, tensors, f32, codes); err != nil {
		return nil, err
	}
	for i := range p.layers {
		l := &p.layers[i]
		if l.q, err = kernels.NewInt8Weights(codes[l.name+"/kernel"], f32[l.name+"/kernel_scale"], l.in, l.units); err != nil {
			return nil, fmt.Errorf("layer %q: %v", l.name, err)
		}
		if i < len(p.layers)-1 {
			p.hidden = max(p.hidden, l.units)
		}
	}
	p.outSize = p.layers[len(p.layers)-1].units
	return p, nil
}
