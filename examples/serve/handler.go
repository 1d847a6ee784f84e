package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync"

	"github.com/simdmlp/simdmlp/mlp"
)

// fashionClasses names Fashion-MNIST's classes, used as labels when the
// model has ten outputs.
var fashionClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// maxBody bounds a request: 784 numbers fit in a few kilobytes.
const maxBody = 1 << 20

type request struct {
	Pixels []float64 `json:"pixels"`
}

type class struct {
	Class       int     `json:"class"`
	Label       string  `json:"label,omitempty"`
	Probability float32 `json:"probability"`
}

type reply struct {
	Top []class `json:"top"`
}

type errorReply struct {
	Error string `json:"error"`
}

// handler serves one model. The predictor is safe for concurrent use; the
// per-request buffers come from a pool so that steady load reuses them.
type handler struct {
	p      *mlp.Predictor
	labels []string
	bufs   sync.Pool // *buffers
	mux    *http.ServeMux
}

type buffers struct {
	x, out []float32
	order  []int
}

func newHandler(path string) (*handler, error) {
	m, err := mlp.Load(path)
	if err != nil {
		return nil, err
	}
	p, err := m.Predictor()
	if err != nil {
		return nil, err
	}
	h := &handler{p: p, mux: http.NewServeMux()}
	if p.OutputSize() == len(fashionClasses) {
		h.labels = fashionClasses
	}
	h.bufs.New = func() any {
		return &buffers{x: make([]float32, p.InputSize()), out: make([]float32, p.OutputSize()), order: make([]int, p.OutputSize())}
	}
	h.mux.HandleFunc("POST /predict", h.predict)
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *handler) predict(w http.ResponseWriter, r *http.Request) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return
	}
	b := h.bufs.Get().(*buffers)
	defer h.bufs.Put(b)
	if err := scale(b.x, req.Pixels); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := h.p.PredictOne(b.x, b.out); err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	for i := range b.order {
		b.order[i] = i
	}
	sort.SliceStable(b.order, func(i, j int) bool { return b.out[b.order[i]] > b.out[b.order[j]] })
	var rep reply
	for _, c := range b.order[:min(3, len(b.order))] {
		cl := class{Class: c, Probability: b.out[c]}
		if h.labels != nil {
			cl.Label = h.labels[c]
		}
		rep.Top = append(rep.Top, cl)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep) //nolint:errcheck // the client went away
}

// scale fills x from the request's pixels: floats in [0, 1] as they are,
// or integers 0..255 divided by 255, as the training data were.
func scale(x []float32, px []float64) error {
	if len(px) != len(x) {
		return fmt.Errorf("\"pixels\" has %d values, the model takes %d", len(px), len(x))
	}
	unit := true
	for i, v := range px {
		if !(v >= 0 && v <= 255) {
			return fmt.Errorf("pixel %d = %v is outside [0, 255]", i, v)
		}
		if v > 1 {
			unit = false
		}
	}
	for i, v := range px {
		if unit {
			x[i] = float32(v)
			continue
		}
		if v != math.Trunc(v) {
			return fmt.Errorf("pixel %d = %v: values above 1 are read as 0..255 intensities and must be integers", i, v)
		}
		x[i] = float32(v) / 255
	}
	return nil
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(errorReply{msg}) //nolint:errcheck // the client went away
}
