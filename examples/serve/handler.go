package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
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

// class is one entry of a reply. Exactly one of Probability and Score is
// set: Probability when the model ends in softmax, whose outputs are a
// probability distribution over the classes, Score otherwise, so that a raw
// output is never presented as a probability.
type class struct {
	Class       int      `json:"class"`
	Label       string   `json:"label,omitempty"`
	Probability *float32 `json:"probability,omitempty"`
	Score       *float32 `json:"score,omitempty"`
}

type reply struct {
	Top []class `json:"top"`
	// Note says what the scores are when they are not probabilities.
	Note string `json:"note,omitempty"`
}

type errorReply struct {
	Error string `json:"error"`
}

// handler serves one model. The predictor is safe for concurrent use; the
// per-request buffers come from a pool so that steady load reuses them.
type handler struct {
	p      *mlp.Predictor
	labels []string
	// lastAct is the activation of the model's last Dense layer; only
	// "softmax" makes its outputs probabilities.
	lastAct string
	// note is reply.Note: empty for a softmax model.
	note string
	bufs sync.Pool // *buffers
	mux  *http.ServeMux
}

type buffers struct {
	x, out []float32
	order  []int
}

func newHandler(path string) (*handler, error) {
	// A model file gives its float32 Predictor, an int8 predictor file
	// (simdmlp quantize) its int8 one.
	p, err := mlp.LoadPredictor(path)
	if err != nil {
		return nil, err
	}
	h := &handler{p: p, mux: http.NewServeMux(), lastAct: p.OutputActivation()}
	if h.lastAct != "softmax" {
		h.note = fmt.Sprintf("the model's last layer has activation %q, not softmax: the scores are its raw outputs, not probabilities", h.lastAct)
	}
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

// describe says in a few words what the handler serves, for the start-up
// log line.
func (h *handler) describe() string {
	what := "probabilities"
	if h.lastAct != "softmax" {
		what = fmt.Sprintf("raw %s scores, not probabilities", h.lastAct)
	}
	return fmt.Sprintf("%s predictor, %d inputs → %d outputs, replies give %s", h.p.Precision(), h.p.InputSize(), h.p.OutputSize(), what)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *handler) predict(w http.ResponseWriter, r *http.Request) {
	// A declared length over the limit is refused before anything is read.
	if r.ContentLength > maxBody {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, maxBody))
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		bodyError(w, "bad JSON body: ", err)
		return
	}
	// The body must hold exactly one JSON value: trailing whitespace is
	// fine, anything else means the client sent something other than what
	// it thinks, and answering the first value would hide that.
	switch tok, err := dec.Token(); {
	case err == nil:
		fail(w, http.StatusBadRequest, fmt.Sprintf("bad JSON body: a second JSON value (starting with %v) follows the request object; send one object per request", tok))
		return
	case err != io.EOF:
		bodyError(w, "bad JSON body: unexpected data after the request object: ", err)
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
	// JSON has no NaN or infinity, and they cannot be ranked: a model
	// that produces them (overflowing or corrupt weights) gets a clear
	// error rather than an empty 200 or a meaningless order.
	for i, v := range b.out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			fail(w, http.StatusInternalServerError, fmt.Sprintf("the model's output %d is %v for this input; it has no meaningful answer", i, v))
			return
		}
	}
	for i := range b.order {
		b.order[i] = i
	}
	sort.SliceStable(b.order, func(i, j int) bool { return b.out[b.order[i]] > b.out[b.order[j]] })
	rep := reply{Note: h.note}
	for _, c := range b.order[:min(3, len(b.order))] {
		v := b.out[c]
		cl := class{Class: c}
		if h.lastAct == "softmax" {
			cl.Probability = &v
		} else {
			cl.Score = &v
		}
		if h.labels != nil {
			cl.Label = h.labels[c]
		}
		rep.Top = append(rep.Top, cl)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep) //nolint:errcheck // the client went away
}

// bodyError answers a failure to read or decode the request body: 413 when
// the body is over maxBody, 408 when the server's read timeout ran out
// while the body was still arriving, and otherwise 400 with prefix and the
// decoder's message.
func bodyError(w http.ResponseWriter, prefix string, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than the limit of %d bytes", tooLarge.Limit))
	case errors.Is(err, os.ErrDeadlineExceeded):
		// err names the connection's addresses, which are no news to
		// the client.
		fail(w, http.StatusRequestTimeout, "request body did not arrive within the server's read timeout")
	default:
		fail(w, http.StatusBadRequest, prefix+err.Error())
	}
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
