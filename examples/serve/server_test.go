package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startRun serves h with cfg through run on a free loopback port and
// returns the address run announced. Cleanup ends run's context and checks
// that it returns nil, promptly.
func startRun(t *testing.T, h http.Handler, cfg serverConfig) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	announced := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, "127.0.0.1:0", newServer(h, cfg), "test model", func(format string, args ...any) {
			announced <- fmt.Sprintf(format, args...)
		})
	}()
	var line string
	select {
	case line = <-announced:
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("run announced nothing in 10 s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("run after its context ended: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run still running 10 s after its context ended")
		}
	})
	addr, ok := strings.CutPrefix(line, "serving test model on http://")
	if !ok || strings.HasSuffix(addr, ":0") {
		t.Fatalf("run announced %q; want the bound address", line)
	}
	return addr
}

// longConfig is a configuration whose limits are all far beyond the
// tests' bounds, so that a test that shortens one limit sees only that
// one act.
func longConfig() serverConfig {
	return serverConfig{
		ReadHeaderTimeout: time.Minute,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
}

// holdConn opens a connection to addr, sends first, then the bytes of
// trickle one every 100 ms, and reads until the server closes the
// connection. It returns what it read and how long the connection lasted,
// and fails the test if it is still open after bound.
func holdConn(t *testing.T, addr, first, trickle string, bound time.Duration) ([]byte, time.Duration) {
	t.Helper()
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The deadline turns a server that holds on into a failure, not a hang.
	if err := conn.SetDeadline(start.Add(bound)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, first); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range len(trickle) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := io.WriteString(conn, trickle[i:i+1]); err != nil {
				return // the server has closed the connection
			}
		}
	}()
	got, err := io.ReadAll(conn)
	held := time.Since(start)
	close(stop)
	<-trickled
	// EOF (io.ReadAll's nil) or a reset both mean the server let go.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v; read %q", held.Round(time.Millisecond), got)
	}
	return got, held
}

// TestSlowClientsAreDropped holds connections on loopback the ways a slow
// or idle client can, each against a server with one short limit, and
// checks the server closes each soon after that limit.
func TestSlowClientsAreDropped(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	const short = 300 * time.Millisecond
	// The bound leaves room for net/http's half-second wait before it
	// closes a connection whose body it did not read, and for a loaded
	// machine; it is far below the other limits (a minute).
	const bound = short + 3*time.Second
	headers := "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
	for _, c := range []struct {
		name           string
		set            func(*serverConfig)
		first, trickle string
		// reply is what the client may read: nothing, or a reply that
		// starts so (a reset may lose it).
		reply string
		// must makes the reply compulsory.
		must bool
	}{
		{"silent after connecting", func(c *serverConfig) { c.ReadHeaderTimeout = short }, "", "", "", false},
		{"trickled headers", func(c *serverConfig) { c.ReadHeaderTimeout = short },
			"POST /predict HTTP/1.1\r\nX-Slow: ", strings.Repeat("a", 1000), "", false},
		{"silent after headers", func(c *serverConfig) { c.ReadTimeout = short }, headers, "", "HTTP/1.1 408 Request Timeout\r\n", false},
		{"trickled body", func(c *serverConfig) { c.ReadTimeout = short }, headers, strings.Repeat(" ", 1000), "HTTP/1.1 408 Request Timeout\r\n", false},
		{"idle keep-alive", func(c *serverConfig) { c.IdleTimeout = short },
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", "HTTP/1.1 200 OK\r\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := longConfig()
			c.set(&cfg)
			addr := startRun(t, h, cfg)
			got, held := holdConn(t, addr, c.first, c.trickle, bound)
			t.Logf("closed after %v; read %q", held.Round(time.Millisecond), got)
			if held < short {
				t.Errorf("closed after %v, before the %v limit: for some other reason? Read %q", held, short, got)
			}
			switch {
			case len(got) == 0 && c.must:
				t.Errorf("read nothing; want a reply starting %q", c.reply)
			case len(got) > 0 && c.reply == "":
				t.Errorf("read %q; want nothing", got)
			case len(got) > 0 && !bytes.HasPrefix(got, []byte(c.reply)):
				t.Errorf("read %q; want a reply starting %q", got, c.reply)
			}
			if n := bytes.Count(got, []byte("HTTP/1.1 ")); n > 1 {
				t.Errorf("read %d replies, want at most one: %q", n, got)
			}
		})
	}
}

// smallSendBuffers shrinks the send buffer of every connection it accepts,
// so that a few kilobytes of unread replies block the server's writes.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096) //nolint:errcheck // the test only needs the buffer small, and fails clearly if it is not
	}
	return c, err
}

// TestUnreadRepliesDropped pipelines many requests on one connection and
// reads nothing for a while: once the replies fill the buffers the
// server's write blocks, and the write timeout must close the connection
// rather than wait for the client forever.
func TestUnreadRepliesDropped(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := longConfig()
	cfg.WriteTimeout = 300 * time.Millisecond
	srv := newServer(h, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(smallSendBuffers{ln}) //nolint:errcheck // ends with Close
	defer srv.Close()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	// 5000 replies of about 120 bytes are far more than the shrunken
	// buffers hold.
	const n = 5000
	if err := conn.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		io.WriteString(conn, strings.Repeat("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", n)) //nolint:errcheck // the server may close first
	}()
	time.Sleep(cfg.WriteTimeout + time.Second)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	replies := bytes.Count(got, []byte("HTTP/1.1 200 OK\r\n"))
	t.Logf("%d of %d replies before the server closed the connection (%v)", replies, n, err)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || replies >= n {
		t.Errorf("server waited for a client that read nothing for %v: %d of %d replies, then %v",
			cfg.WriteTimeout+time.Second, replies, n, err)
	}
	if replies == 0 {
		t.Errorf("no replies at all (%v): the server did not serve the pipelined requests", err)
	}
	conn.Close()
	<-wrote
}

// TestHeaderLimit: headers over MaxHeaderBytes get 431, headers well under
// it are served.
func TestHeaderLimit(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultServerConfig()
	addr := startRun(t, h, cfg)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, c := range []struct {
		size, code int
	}{
		{cfg.MaxHeaderBytes / 2, http.StatusOK},
		// net/http allows 4 KiB of slack above MaxHeaderBytes.
		{2*cfg.MaxHeaderBytes + 4096, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, err := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Big", strings.Repeat("a", c.size))
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%d-byte header: %v", c.size, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%d-byte header: status %d, want %d", c.size, resp.StatusCode, c.code)
		}
	}
}

// TestRunPortInUse: run on a port another listener holds returns the
// listen error and announces nothing.
func TestRunPortInUse(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logged []string
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, taken.Addr().String(), newServer(h, defaultServerConfig()), "m", func(format string, args ...any) {
			logged = append(logged, fmt.Sprintf(format, args...))
		})
	}()
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		cancel()
		<-errc
		t.Fatalf("run on %s, a port in use, served (logged %q)", taken.Addr(), logged)
	}
	want := "listen tcp " + taken.Addr().String() + ": bind: address already in use"
	if err == nil || err.Error() != want {
		t.Errorf("run on a port in use: %v; want %q", err, want)
	}
	if len(logged) > 0 {
		t.Errorf("run on a port in use logged %q", logged)
	}
}

// TestRunServesAndStops: run announces the port it bound (not ":0"),
// serves on it, and returns nil once its context ends (checked by
// startRun's cleanup).
func TestRunServesAndStops(t *testing.T) {
	path, _ := testModel(t)
	h, err := newHandler(path)
	if err != nil {
		t.Fatal(err)
	}
	addr := startRun(t, h, defaultServerConfig())
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("healthz on the announced %s: %d %q", addr, resp.StatusCode, b)
	}
}
