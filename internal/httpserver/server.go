package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts and limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Server serves a handler on listeners with sane timeouts and shuts down gracefully. One Server
// may serve several listeners at once, each with its own call to Serve.
type Server struct {
	handler http.Handler
	log     *slog.Logger
}

// NewServer returns a Server for h that logs to log (slog.Default() when nil).
func NewServer(h http.Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{handler: h, log: log}
}

// Serve serves on ln until ctx is done, then shuts down: it stops accepting connections and
// gives in-flight requests up to shutdownTimeout to finish before closing them. Request contexts
// are not canceled by ctx. It returns nil on a clean stop, and an error when serving fails or
// in-flight requests outlast shutdownTimeout. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	addr := ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("http server listening", "addr", addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	s.log.Info("http server shutting down", "addr", addr, "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() //nolint:errcheck // Shutdown's error is the one to report
		err = fmt.Errorf("shut down %s: %w", addr, err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve %s: %w", addr, serr))
	}
	if err == nil {
		s.log.Info("http server stopped", "addr", addr)
	}
	return err
}
