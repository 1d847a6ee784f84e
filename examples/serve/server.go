package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serverConfig bounds how long and how much a client may hold the server.
// Every field must be positive: net/http reads zero as "no limit".
type serverConfig struct {
	// ReadHeaderTimeout bounds the wait for a request's headers, from
	// the first byte read (or, on keep-alive, the end of the idle wait).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, headers and body; a
	// body that stops or trickles fails with a deadline error.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's headers
	// to the end of its reply, so a client that does not read its
	// replies cannot hold the connection. It should exceed ReadTimeout,
	// or a slowly sent body leaves no time for the reply.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; net/http
	// answers more with 431 (it allows 4 KiB of slack above the limit).
	MaxHeaderBytes int
}

// defaultServerConfig returns limits generous for a client on a slow link
// sending a few kilobytes, and short enough that idle or stalled clients
// release their connections within a minute.
func defaultServerConfig() serverConfig {
	return serverConfig{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// check reports a limit that would switch its protection off or defeat
// another, naming the command-line flag that sets it.
func (c serverConfig) check() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"-header-timeout", c.ReadHeaderTimeout},
		{"-read-timeout", c.ReadTimeout},
		{"-write-timeout", c.WriteTimeout},
		{"-idle-timeout", c.IdleTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s = %v, must be positive (zero would let a client hold a connection forever)", d.flag, d.v)
		}
	}
	if c.WriteTimeout < c.ReadTimeout {
		return fmt.Errorf("-write-timeout = %v is shorter than -read-timeout = %v: the reply to a slowly sent request would be cut off", c.WriteTimeout, c.ReadTimeout)
	}
	if c.MaxHeaderBytes <= 0 {
		return fmt.Errorf("MaxHeaderBytes = %d, must be positive", c.MaxHeaderBytes)
	}
	return nil
}

// newServer returns a server for h with cfg's limits. Its Addr is unset:
// run listens itself.
func newServer(h http.Handler, cfg serverConfig) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
	}
}

// shutdownGrace bounds how long run waits for requests in flight once ctx
// is done.
const shutdownGrace = 5 * time.Second

// run binds addr, and only once it holds the port logs through logf that
// it serves what on the bound address (the real port when addr asks for
// port 0). It then serves with srv until ctx is done, when it shuts down
// gracefully and returns nil, or until serving fails.
func run(ctx context.Context, addr string, srv *http.Server, what string, logf func(format string, args ...any)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err // "listen tcp host:port: bind: address already in use"
	}
	logf("serving %s on http://%s", what, ln.Addr())
	done := make(chan struct{})
	shut := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			shut <- nil
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			srv.Close() //nolint:errcheck // the shutdown error is the one to report
			err = fmt.Errorf("shutdown: %w", err)
		}
		shut <- err
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return <-shut
	}
	close(done)
	<-shut
	return err
}
