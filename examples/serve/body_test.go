package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
)

// saveModel builds a model of 28×28 inputs from layers, lets edit change
// it, saves it and returns its path and the model.
func saveModel(t *testing.T, edit func(*mlp.Sequential), layers ...*mlp.Layer) (string, *mlp.Sequential) {
	t.Helper()
	mlp.SetRandomSeed(7)
	m := mlp.NewSequential("scored", append([]*mlp.Layer{mlp.Flatten(mlp.InputShape(28, 28))}, layers...)...)
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	return p, m
}

// onesBody is a request whose 784 pixels are all 1.
var onesBody = `{"pixels": [` + strings.Repeat("1,", 783) + `1]}`

// TestNonSoftmaxModelScores serves models whose last layer is not softmax:
// their outputs are ranked and returned as scores, with a note naming the
// activation, and never called probabilities.
func TestNonSoftmaxModelScores(t *testing.T) {
	for _, act := range []string{"linear", "sigmoid", "relu"} {
		t.Run(act, func(t *testing.T) {
			path, m := saveModel(t, nil, mlp.Dense(32, "relu"), mlp.Dense(10, act))
			h, err := newHandler(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := h.describe(); !strings.Contains(d, "raw "+act+" scores, not probabilities") {
				t.Errorf("describe() = %q, want it to say the outputs are raw %s scores", d, act)
			}
			x := make([]float32, 784)
			for i := range x {
				x[i] = 1
			}
			want := make([]float32, 10)
			if err := m.Predict(x, want); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			code, resp := post(t, srv.Client(), srv.URL, []byte(onesBody))
			if code != 200 {
				t.Fatalf("status %d: %s", code, resp)
			}
			var raw struct{ Top []map[string]any }
			if err := json.Unmarshal(resp, &raw); err != nil {
				t.Fatal(err)
			}
			for _, c := range raw.Top {
				if _, ok := c["probability"]; ok {
					t.Errorf("reply calls the outputs probabilities: %s", resp)
				}
			}
			var rep reply
			if err := json.Unmarshal(resp, &rep); err != nil {
				t.Fatal(err)
			}
			wantNote := fmt.Sprintf("activation %q, not softmax: the scores are its raw outputs, not probabilities", act)
			if !strings.Contains(rep.Note, wantNote) {
				t.Errorf("note %q, want it to contain %q", rep.Note, wantNote)
			}
			if len(rep.Top) != 3 {
				t.Fatalf("reply %s", resp)
			}
			for i, c := range rep.Top {
				if c.Probability != nil || c.Score == nil || *c.Score != want[c.Class] {
					t.Errorf("top %d: %s; want only a score, %v", i, resp, want[c.Class])
				}
				if i > 0 && *c.Score > *rep.Top[i-1].Score {
					t.Errorf("top %d scores %v above top %d", i, *c.Score, i-1)
				}
			}
		})
	}
}

// TestNonFiniteOutput serves a linear model whose finite weights overflow
// float32 on a white image: the reply must be an error that says so, not a
// 200 with an empty body (encoding/json cannot write +Inf).
func TestNonFiniteOutput(t *testing.T) {
	path, _ := saveModel(t, func(m *mlp.Sequential) {
		w := m.Weights()
		for i := range w[0] {
			w[0][i] = 1e37
		}
		if err := m.SetWeights(w); err != nil {
			t.Fatal(err)
		}
	}, mlp.Dense(10, "linear"))
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, resp := post(t, srv.Client(), srv.URL, []byte(onesBody))
	var e errorReply
	if code != http.StatusInternalServerError || json.Unmarshal(resp, &e) != nil || !strings.Contains(e.Error, "is +Inf for this input") {
		t.Errorf("status %d, %q; want 500 saying the output is +Inf", code, resp)
	}
	// A black image gives zeros, which are fine.
	code, resp = post(t, srv.Client(), srv.URL, []byte(strings.ReplaceAll(onesBody, "1", "0")))
	if code != 200 {
		t.Errorf("black image: status %d, %s", code, resp)
	}
}

// TestBodyIsOneObject: trailing whitespace is accepted; trailing bytes or a
// second JSON value are refused with a message that says so.
func TestBodyIsOneObject(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		tail string
		code int
		want string
	}{
		{"", 200, ""},
		{" \n\t\r\n", 200, ""},
		{"x", 400, "unexpected data after the request object: invalid character 'x'"},
		{" ]", 400, "unexpected data after the request object"},
		{"\n" + onesBody, 400, "a second JSON value (starting with {) follows the request object"},
		{" 1", 400, "a second JSON value (starting with 1)"},
		{`"a"`, 400, "a second JSON value"},
		{" {", 400, "a second JSON value"},
	} {
		code, resp := post(t, srv.Client(), srv.URL, []byte(onesBody+c.tail))
		if code != c.code {
			t.Errorf("tail %q: status %d, %s; want %d", c.tail, code, resp, c.code)
			continue
		}
		if c.code == 200 {
			continue
		}
		var e errorReply
		if json.Unmarshal(resp, &e) != nil || !strings.Contains(e.Error, c.want) {
			t.Errorf("tail %q: %s; want an error containing %q", c.tail, resp, c.want)
		}
	}
}

// TestBodyTooLarge: a body over maxBody is answered 413 whether its length
// is declared (refused before it is read) or it comes in chunks.
func TestBodyTooLarge(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}

	// Chunked (the client cannot know the length of a MultiReader): no
	// declared length, so only reading finds the body too large.
	big := `{"pixels": [` + strings.Repeat("0, ", maxBody/3) + `0]}`
	resp, err := client.Post(srv.URL+"/predict", "application/json", io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "larger than the limit of 1048576 bytes") {
		t.Errorf("chunked %d-byte body: status %d, %s; want 413", len(big), resp.StatusCode, b)
	}

	// Declared: the server must answer at once, without waiting for a
	// body that never comes.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a failure shows as a timeout below
	fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 10*maxBody)
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("declared %d-byte body, none sent: %v; want an immediate 413", 10*maxBody, err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "body of 10485760 bytes is larger than the limit of 1048576 bytes") {
		t.Errorf("declared %d-byte body: status %d, %s; want 413", 10*maxBody, r.StatusCode, b)
	}
}

// deadlineBody is a request body whose read fails as a connection's does
// when the server's read deadline passes.
type deadlineBody struct{}

func (deadlineBody) Read([]byte) (int, error) {
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

func (deadlineBody) Close() error { return nil }

// TestBodyReadTimeout: a body cut off by the read timeout is answered 408,
// not 400 as though the client had sent bad JSON.
func TestBodyReadTimeout(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/predict", nil)
	req.Body = deadlineBody{}
	req.ContentLength = 1000
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var e errorReply
	if rec.Code != http.StatusRequestTimeout || json.Unmarshal(rec.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, "request body did not arrive within the server's read timeout") {
		t.Errorf("status %d, %s; want 408", rec.Code, rec.Body)
	}
}
