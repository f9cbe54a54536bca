package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// ServePprof serves net/http/pprof's handlers on addr until ctx ends, on a
// mux of their own: the API's router never exposes them. An empty addr (the
// default) serves nothing. The profiles show the process's internals, so
// addr should be a loopback address; `make bench` fetches the worker's CPU
// profile through it.
func ServePprof(ctx context.Context, addr string, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	_, err := ServeSide(ctx, "PPROF_ADDR", addr, mux, logger)
	return err
}

// ServeSide serves h on addr until ctx ends: a listener beside the
// process's main work (pprof, the worker's probes), named by its setting in
// errors and logs. It returns the bound address.
func ServeSide(ctx context.Context, setting, addr string, h http.Handler, logger *slog.Logger) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", setting, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("listener stopped", "setting", setting, "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	logger.Info("listening", "setting", setting, "addr", l.Addr().String())
	return l.Addr().String(), nil
}
