// Command serve is a small HTTP JSON service around a trained model: an
// example of embedding mlp.Predictor in a server.
//
// Usage:
//
//	serve -model model.safetensors [-addr localhost:8080]
//
// Endpoints:
//
//	POST /predict  {"pixels": [784 numbers]} → {"top": [{"class": 9, "label": "Ankle boot", "probability": 0.97}, …]}
//	GET  /healthz  → 200 "ok"
//
// The pixels are either floats in [0, 1], as the model was trained on, or
// integer intensities 0..255, which are divided by 255 as training did.
// The reply lists the three most probable classes, most probable first;
// labels are Fashion-MNIST's when the model has ten outputs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	model := flag.String("model", "", "model file written by `simdmlp train --save` or mlp.Save (required)")
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	if *model == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	h, err := newHandler(*model)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut) //nolint:errcheck // exiting anyway
	}()
	log.Printf("serving %s on http://%s", *model, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
