package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
)

// testModel saves a model of the tutorial's shape (random weights) and
// returns its path and the model.
func testModel(t testing.TB) (string, *mlp.Sequential) {
	t.Helper()
	mlp.SetRandomSeed(1)
	m := mlp.NewSequential("served", mlp.Flatten(mlp.InputShape(28, 28)), mlp.Dense(100, "relu"), mlp.Dense(10, "softmax"))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	return p, m
}

func post(t testing.TB, c *http.Client, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := c.Post(url+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestPredictEndpoint(t *testing.T) {
	path, m := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	r := rand.New(rand.NewPCG(1, 2))
	ints := make([]int, 784)
	x := make([]float32, 784)
	for i := range ints {
		ints[i] = r.IntN(256)
		x[i] = float32(ints[i]) / 255
	}
	want := make([]float32, 10)
	if err := m.Predict(x, want); err != nil {
		t.Fatal(err)
	}
	floats := make([]float64, 784)
	for i := range floats {
		floats[i] = float64(x[i])
	}
	for _, body := range []any{map[string]any{"pixels": ints}, map[string]any{"pixels": floats}} {
		b, _ := json.Marshal(body)
		code, resp := post(t, srv.Client(), srv.URL, b)
		if code != 200 {
			t.Fatalf("status %d: %s", code, resp)
		}
		var rep reply
		if err := json.Unmarshal(resp, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Top) != 3 {
			t.Fatalf("reply %s", resp)
		}
		order := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpF(want[a], want[b]) })
		for i, c := range rep.Top {
			if c.Class != order[i] || c.Probability == nil || *c.Probability != want[c.Class] || c.Score != nil || c.Label != fashionClasses[c.Class] {
				t.Errorf("top %d: %s, want class %d with probability %v", i, resp, order[i], want[order[i]])
			}
		}
		if rep.Note != "" {
			t.Errorf("softmax model: reply has a note: %s", resp)
		}
	}

	for _, c := range []struct {
		body string
		want string
	}{
		{`{"pixels": [1, 2]}`, "has 2 values, the model takes 784"},
		{`{"pixels": [`, "bad JSON"},
		{`{"pics": []}`, "unknown field"},
		{`{"pixels": [` + strings.Repeat("0,", 783) + `300]}`, "pixel 783 = 300 is outside [0, 255]"},
		{`{"pixels": [` + strings.Repeat("0,", 783) + `-1]}`, "outside"},
		{`{"pixels": [` + strings.Repeat("0,", 782) + `2, 0.5]}`, "must be integers"},
	} {
		code, resp := post(t, srv.Client(), srv.URL, []byte(c.body))
		var e errorReply
		if code != 400 || json.Unmarshal(resp, &e) != nil || !strings.Contains(e.Error, c.want) {
			t.Errorf("body %.40q: status %d, %s; want 400 and %q", c.body, code, resp, c.want)
		}
	}
	if code, resp := post(t, srv.Client(), srv.URL, []byte(`{"pixels": [`+strings.Repeat("0,", 600000)+`0]}`)); code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(resp), "larger than the limit of 1048576 bytes") {
		t.Errorf("1.2 MB body: status %d, %s; want 413 saying the limit", code, resp)
	}
	resp, err := srv.Client().Get(srv.URL + "/predict")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /predict: %d", resp.StatusCode)
	}
	resp, err = srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestNewHandlerErrors(t *testing.T) {
	if _, err := newHandler(filepath.Join(t.TempDir(), "none.safetensors")); err == nil || !strings.Contains(err.Error(), "none.safetensors") {
		t.Errorf("missing model: %v", err)
	}
}

// TestLoad runs 20000 requests from 16 goroutines against the service on
// loopback: every reply must be right, and afterwards the goroutines must
// be back to their number before the server started and the heap must not
// have grown between the two halves of the run.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	path, m := testModel(t)
	const workers, total = 16, 20000
	// A few distinct images, with their expected best class.
	r := rand.New(rand.NewPCG(3, 4))
	var bodies [][]byte
	var best []int
	for range 8 {
		px := make([]int, 784)
		x := make([]float32, 784)
		for i := range px {
			px[i] = r.IntN(256)
			x[i] = float32(px[i]) / 255
		}
		out := make([]float32, 10)
		if err := m.Predict(x, out); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(request{Pixels: toF64(px)})
		bodies = append(bodies, b)
		best = append(best, slices.Index(out, slices.Max(out)))
	}

	runtime.GC()
	baseline := runtime.NumGoroutine()
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	lat := make([]time.Duration, total)
	half := func(from, to int) error {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := from + w; i < to; i += workers {
					k := i % len(bodies)
					start := time.Now()
					resp, err := client.Post(srv.URL+"/predict", "application/json", bytes.NewReader(bodies[k]))
					if err != nil {
						errs <- err
						return
					}
					var rep reply
					err = json.NewDecoder(resp.Body).Decode(&rep)
					resp.Body.Close()
					lat[i] = time.Since(start)
					if err != nil || resp.StatusCode != 200 || len(rep.Top) != 3 || rep.Top[0].Class != best[k] {
						errs <- fmt.Errorf("request %d: status %d, %+v, %v; want best class %d", i, resp.StatusCode, rep, err, best[k])
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	start := time.Now()
	if err := half(0, total/2); err != nil {
		t.Fatal(err)
	}
	h1 := heap()
	if err := half(total/2, total); err != nil {
		t.Fatal(err)
	}
	h2 := heap()
	elapsed := time.Since(start)
	slices.Sort(lat)
	t.Logf("%d requests from %d goroutines in %v (%.0f req/s): p50 %v, p99 %v, max %v",
		total, workers, elapsed.Round(time.Millisecond), total/elapsed.Seconds(),
		lat[total/2], lat[total*99/100], lat[total-1])
	t.Logf("heap after first half %d KiB, after second %d KiB", h1>>10, h2>>10)
	// The second half may not keep what the first did not: allow 1 MiB of
	// noise (runtime and test bookkeeping), far below what 10000 leaked
	// requests would hold.
	if h2 > h1+1<<20 {
		t.Errorf("heap grew from %d to %d bytes between the halves", h1, h2)
	}

	client.CloseIdleConnections()
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the run, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func toF64(px []int) []float64 {
	f := make([]float64, len(px))
	for i, v := range px {
		f[i] = float64(v)
	}
	return f
}

// TestPredictEndpointInt8 serves an int8 predictor file (simdmlp
// quantize's): the replies are the int8 Predictor's outputs.
func TestPredictEndpointInt8(t *testing.T) {
	_, m := testModel(t)
	q, err := m.QuantizedPredictor()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "q.safetensors")
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := h.describe(); !strings.HasPrefix(d, "int8 predictor") {
		t.Errorf("describe: %q", d)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	r := rand.New(rand.NewPCG(3, 4))
	ints := make([]int, 784)
	x := make([]float32, 784)
	for i := range ints {
		ints[i] = r.IntN(256)
		x[i] = float32(ints[i]) / 255
	}
	want := make([]float32, 10)
	if err := q.PredictOne(x, want); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"pixels": ints})
	code, resp := post(t, srv.Client(), srv.URL, b)
	var rep reply
	if code != 200 || json.Unmarshal(resp, &rep) != nil || len(rep.Top) != 3 {
		t.Fatalf("status %d: %s", code, resp)
	}
	for _, c := range rep.Top {
		if c.Probability == nil || *c.Probability != want[c.Class] {
			t.Errorf("class %d: %s, want probability %v", c.Class, resp, want[c.Class])
		}
	}
}
