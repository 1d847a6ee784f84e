package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// savedModel returns a built model with non-trivial weights: Flatten of
// 4×5 images, a named relu layer of 7 units, and 3 softmax outputs.
func savedModel(t testing.TB) *Sequential {
	t.Helper()
	SetRandomSeed(7)
	m := NewSequential("saved", Flatten(InputShape(4, 5), Name("flat")),
		Dense(7, "relu", Name("hidden")), Dense(3, "softmax", Name("out")))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	// Non-zero biases, so that a bias read into the wrong place shows.
	w := m.Weights()
	for i := range w[1] {
		w[1][i] = float32(i) * 0.01
	}
	for i := range w[3] {
		w[3][i] = -float32(i) * 0.02
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	return m
}

func saveBytes(t testing.TB, m *Sequential) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := savedModel(t)
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	ResetNames()
	defer ResetNames()
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name() != "saved" || got.String() != m.String() {
		t.Errorf("loaded %s, want %s", got, m)
	}
	if n := Dense(1, "").Name(); n != "dense" {
		t.Errorf("Load advanced the name counters: next Dense is %q", n)
	}
	if !reflect.DeepEqual(got.inShape, []int{4, 5}) || got.InputSize() != 20 || got.OutputSize() != 3 {
		t.Errorf("input shape %v, sizes %d→%d", got.inShape, got.InputSize(), got.OutputSize())
	}
	for i, l := range got.Layers() {
		w := m.Layers()[i]
		if l.Name() != w.Name() || l.ClassName() != w.ClassName() || l.Units() != w.Units() || l.Activation() != w.Activation() {
			t.Errorf("layer %d: %s %s %d %s, want %s %s %d %s", i, l.Name(), l.ClassName(), l.Units(), l.Activation(),
				w.Name(), w.ClassName(), w.Units(), w.Activation())
		}
	}
	if !reflect.DeepEqual(got.Weights(), m.Weights()) {
		t.Error("weights differ after the round trip")
	}
	x, _ := synth(9, 20, 3, 3)
	a, b := make([]float32, 27), make([]float32, 27)
	if err := m.Predict(x, a); err != nil {
		t.Fatal(err)
	}
	if err := got.Predict(x, b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Predict differs after the round trip:\n%v\n%v", a, b)
	}
	// A loaded model trains once compiled.
	if err := got.Compile(nil, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	y := make([]int32, 9)
	if _, err := got.Fit(x, y, FitConfig{Verbose: VerboseSilent}); err != nil {
		t.Fatal(err)
	}
}

// TestSaveFormat reads the file as any safetensors reader would, by the
// specification, and checks what it finds.
func TestSaveFormat(t *testing.T) {
	m := savedModel(t)
	b := saveBytes(t, m)
	if !bytes.Equal(b, saveBytes(t, m)) {
		t.Error("two saves of one model give different bytes")
	}
	n := binary.LittleEndian.Uint64(b)
	if (8+n)%8 != 0 {
		t.Errorf("data start at %d, not 8-byte aligned", 8+n)
	}
	header := b[8 : 8+n]
	if header[0] != '{' {
		t.Errorf("header starts with %q", header[0])
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(h["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{
		"format": "simdmlp", "format_version": "1", "model_name": "saved", "input_shape": "[4,5]",
		"layers": `[{"class_name":"Flatten","name":"flat"},{"class_name":"Dense","name":"hidden","units":7,"activation":"relu"},` +
			`{"class_name":"Dense","name":"out","units":3,"activation":"softmax"}]`,
	}
	if !reflect.DeepEqual(meta, wantMeta) {
		t.Errorf("metadata\n%v\nwant\n%v", meta, wantMeta)
	}
	data := b[8+n:]
	names := []string{"hidden/kernel", "hidden/bias", "out/kernel", "out/bias"}
	shapes := [][]int64{{20, 7}, {7}, {7, 3}, {3}}
	if len(h) != len(names)+1 {
		t.Errorf("header has %d keys, want %d", len(h), len(names)+1)
	}
	for i, w := range m.Weights() {
		var ti tensorInfo
		if err := json.Unmarshal(h[names[i]], &ti); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		if ti.Dtype != "F32" || !reflect.DeepEqual(ti.Shape, shapes[i]) {
			t.Errorf("%s: %+v", names[i], ti)
		}
		raw := data[ti.DataOffsets[0]:ti.DataOffsets[1]]
		got := make([]float32, len(raw)/4)
		for j := range got {
			got[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: data differ from Weights (Keras layout)", names[i])
		}
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	if err := NewSequential("u", Dense(3, "softmax")).Save(filepath.Join(dir, "u")); err == nil || !strings.Contains(err.Error(), "not yet been built") {
		t.Errorf("unbuilt: %v", err)
	}
	if err := NewSequential("f", Flatten(InputShape(2, 2))).Save(filepath.Join(dir, "f")); err == nil || !strings.Contains(err.Error(), "no Dense") {
		t.Errorf("no Dense: %v", err)
	}
	m := savedModel(t)
	if err := m.Save(filepath.Join(dir, "missing", "m")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: %v", err)
	}
	if err := m.Save(dir); err == nil || !strings.Contains(err.Error(), "it is a directory") {
		t.Errorf("directory as path: %v", err)
	}
	if err := m.Save(filepath.Join(dir, "ok")); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, dir, "ok")
}

// onlyFiles fails unless dir holds exactly the named entries: no
// temporary file left behind.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("directory holds %q, want %q", got, names)
	}
}
