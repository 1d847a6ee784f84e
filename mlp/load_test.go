package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/heap"
	"github.com/simdmlp/simdmlp/optim"
)

// assemble builds a safetensors file from a header value and data.
func assemble(t testing.TB, header any, data []byte) []byte {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	return assembleRaw(h, data)
}

func assembleRaw(h, data []byte) []byte {
	for (8+len(h))%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, data...)
}

// split returns a file's header as generic JSON and its data.
func split(t testing.TB, b []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h, append([]byte(nil), b[8+n:]...)
}

func TestLoadRejects(t *testing.T) {
	good := saveBytes(t, savedModel(t))
	hlen := binary.LittleEndian.Uint64(good)
	meta := func(h map[string]any) map[string]any { return h["__metadata__"].(map[string]any) }
	entry := func(h map[string]any, n string) map[string]any { return h[n].(map[string]any) }
	mutate := func(f func(h map[string]any, data []byte) []byte) []byte {
		h, data := split(t, good)
		data = f(h, data)
		return assemble(t, h, data)
	}
	withLen := func(n uint64) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	nanFile := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(nanFile[8+hlen+4:], math.Float32bits(float32(math.NaN())))
	dup := bytes.Replace(good[8:8+hlen], []byte(`{"__metadata__"`), []byte(`{"out/bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"__metadata__"`), 1)

	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short", good[:5], "too short"},
		{"huge header length", withLen(1 << 40), "exceeds the 100000000-byte limit"},
		{"header past the end", withLen(uint64(len(good))), "truncated file"},
		{"truncated data", good[:len(good)-4], "data_offsets"},
		{"not JSON", assembleRaw([]byte("{nope"), nil), "header JSON"},
		{"not an object", assembleRaw([]byte("[1,2]"), nil), "does not start with '{'"},
		{"junk after the object", assembleRaw([]byte(`{"__metadata__":{}} x`), nil), "space padding"},
		{"unterminated", assembleRaw([]byte(`{"__metadata__":{}`), nil), "header JSON"},
		{"duplicate key", assembleRaw(dup, good[8+hlen:]), "twice"},
		{"no metadata", mutate(func(h map[string]any, d []byte) []byte { delete(h, "__metadata__"); return d }), "no __metadata__"},
		{"metadata not strings", mutate(func(h map[string]any, d []byte) []byte { meta(h)["x"] = 1; return d }), "must map strings to strings"},
		{"not ours", mutate(func(h map[string]any, d []byte) []byte { delete(meta(h), "format"); return d }), "not a simdmlp model file"},
		{"no version", mutate(func(h map[string]any, d []byte) []byte { delete(meta(h), "format_version"); return d }), `no "format_version"`},
		{"future version", mutate(func(h map[string]any, d []byte) []byte { meta(h)["format_version"] = "2"; return d }), `version "2" is not supported`},
		{"no name", mutate(func(h map[string]any, d []byte) []byte { meta(h)["model_name"] = ""; return d }), "model_name"},
		{"bad input shape", mutate(func(h map[string]any, d []byte) []byte { meta(h)["input_shape"] = "[4,"; return d }), "input_shape"},
		{"zero input shape", mutate(func(h map[string]any, d []byte) []byte { meta(h)["input_shape"] = "[0,5]"; return d }), "must be positive"},
		{"wrong input shape", mutate(func(h map[string]any, d []byte) []byte { meta(h)["input_shape"] = "[5,5]"; return d }), "architecture needs [25 7]"},
		{"no layers", mutate(func(h map[string]any, d []byte) []byte { delete(meta(h), "layers"); return d }), `no "layers"`},
		{"layers not JSON", mutate(func(h map[string]any, d []byte) []byte { meta(h)["layers"] = "[{"; return d }), "not a list of layers"},
		{"empty layers", mutate(func(h map[string]any, d []byte) []byte { meta(h)["layers"] = "[]"; return d }), "lists no layers"},
		{"unknown class", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), "Flatten", "Conv2D", 1)
			return d
		}), `class "Conv2D" is not supported`},
		{"unknown activation", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), "relu", "swish", 1)
			return d
		}), `unknown activation "swish"`},
		{"unknown layer field", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), `"units":7`, `"units":7,"use_bias":false`, 1)
			return d
		}), "use_bias"},
		{"zero units", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), `"units":7`, `"units":0`, 1)
			return d
		}), "units = 0"},
		{"no Flatten before Dense", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), `{"class_name":"Flatten","name":"flat"},`, "", 1)
			return d
		}), "flat input"},
		{"duplicate layer name", mutate(func(h map[string]any, d []byte) []byte {
			meta(h)["layers"] = strings.Replace(meta(h)["layers"].(string), `"name":"out"`, `"name":"hidden"`, 1)
			return d
		}), `"hidden" is used twice`},
		{"dtype", mutate(func(h map[string]any, d []byte) []byte { entry(h, "out/bias")["dtype"] = "F16"; return d }), `dtype "F16"`},
		{"unknown entry field", mutate(func(h map[string]any, d []byte) []byte { entry(h, "out/bias")["stride"] = 1; return d }), "bad entry"},
		{"no shape", mutate(func(h map[string]any, d []byte) []byte { delete(entry(h, "out/bias"), "shape"); return d }), "no shape"},
		{"three offsets", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["data_offsets"] = []int{1, 2, 3}
			return d
		}), "want [begin, end]"},
		{"transposed kernel", mutate(func(h map[string]any, d []byte) []byte { entry(h, "hidden/kernel")["shape"] = []int{7, 20}; return d }), "shape [7 20], the architecture needs [20 7]"},
		{"shape not matching bytes", mutate(func(h map[string]any, d []byte) []byte { entry(h, "out/bias")["shape"] = []int{4}; return d }), "needs 16 bytes"},
		{"negative dimension", mutate(func(h map[string]any, d []byte) []byte { entry(h, "out/bias")["shape"] = []int{-3}; return d }), "negative dimension"},
		{"huge shape", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["shape"] = []int64{1 << 40, 1 << 40}
			return d
		}), "more bytes than the file has"},
		{"offsets past the data", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["data_offsets"] = []int{len(d) - 8, len(d) + 4}
			return d
		}), "not inside"},
		{"negative offset", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["data_offsets"] = []int{-12, 0}
			return d
		}), "not inside"},
		{"overlap", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["data_offsets"] = []int{len(d) - 16, len(d) - 4}
			return d[:len(d)-4]
		}), "overlap"},
		{"gap", mutate(func(h map[string]any, d []byte) []byte {
			entry(h, "out/bias")["data_offsets"] = []int{len(d) - 8, len(d) + 4}
			return append(d, 0, 0, 0, 0)
		}), "a gap before"},
		{"trailing bytes", mutate(func(h map[string]any, d []byte) []byte { return append(d, 1, 2, 3, 4) }), "trailing bytes"},
		{"missing tensor", mutate(func(h map[string]any, d []byte) []byte { delete(h, "out/bias"); return d[:len(d)-12] }), `"out/bias" is missing`},
		{"extra tensor", mutate(func(h map[string]any, d []byte) []byte {
			h["optimizer/m"] = map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{len(d), len(d) + 4}}
			return append(d, 0, 0, 0, 0)
		}), `unexpected tensors "optimizer/m"`},
		{"NaN weight", nanFile, `"hidden/kernel" holds NaN at index 1`},
	} {
		_, err := load("bad.safetensors", bytes.NewReader(c.file), int64(len(c.file)))
		if err == nil || !strings.Contains(err.Error(), "bad.safetensors") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one naming the file and %q", c.name, err, c.want)
		}
	}
	// The unmodified file through the same path loads, so the cases above
	// fail for their own fault.
	if _, err := load("good", bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatal(err)
	}
	if _, err := load("good", bytes.NewReader(mutate(func(_ map[string]any, d []byte) []byte { return d })), int64(len(good))); err != nil {
		t.Fatalf("re-assembled file: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nothere.safetensors")
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if err := os.WriteFile(p, []byte("hello, world, not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "header length") {
		t.Errorf("text file: %v", err)
	}
}

// FuzzLoad feeds arbitrary bytes to the loader: it must return a model or
// an error, never panic or allocate beyond the input's size, and a model
// it returns must predict.
func FuzzLoad(f *testing.F) {
	good := saveBytes(f, savedModel(f))
	f.Add(good)
	f.Add(good[:len(good)/2])
	// A file with an optimizer's state (Adam's m and v).
	withOpt := savedModel(f)
	if err := withOpt.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy"); err != nil {
		f.Fatal(err)
	}
	p := filepath.Join(f.TempDir(), "opt.safetensors")
	if err := withOpt.SaveWith(p, SaveOptions{IncludeOptimizer: true}); err != nil {
		f.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b)
	}
	f.Add(assembleRaw([]byte(`{"__metadata__":{"format":"simdmlp","format_version":"1","model_name":"m","input_shape":"[2]",`+
		`"layers":"[{\"class_name\":\"Dense\",\"name\":\"d\",\"units\":1,\"activation\":\"sigmoid\"}]"},`+
		`"d/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"d/bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`),
		make([]byte, 12)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := load("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if m != nil {
				t.Fatal("model and error")
			}
			return
		}
		if m.CountParams()*4 > len(b) {
			t.Fatalf("%d parameters from a %d-byte file", m.CountParams(), len(b))
		}
		out := make([]float32, m.OutputSize())
		if err := m.Predict(make([]float32, m.InputSize()), out); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLoadHeaderPastEnd: a header length that runs past the end of the
// file is refused before the header is allocated, so a 16-byte file
// cannot make Load take the 100 MB the header limit allows. (The error's
// wording alone would not show this: the read fails either way.)
func TestLoadHeaderPastEnd(t *testing.T) {
	for _, hlen := range []uint64{9, 1 << 20, maxHeader - 8} {
		b := binary.LittleEndian.AppendUint64(nil, hlen)
		b = append(b, []byte(`{"__meta`)...)
		var err error
		alloc := heap.Allocated(func() { _, err = load("short", bytes.NewReader(b), int64(len(b))) })
		if err == nil {
			t.Fatalf("header length %d in a %d-byte file: no error", hlen, len(b))
		}
		if alloc > 64<<10 {
			t.Errorf("header length %d in a %d-byte file: Load allocated %d bytes before refusing it", hlen, len(b), alloc)
		}
	}
}
