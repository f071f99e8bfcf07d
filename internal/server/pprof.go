package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
)

// ServePprof serves Go's profiling endpoints (/debug/pprof/…) on their own listener at addr
// until ctx is done. They are never mounted on the API's listener: profiles show memory, so
// the address should be loopback or otherwise private.
func (s *Server) ServePprof(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (COFFER_PPROF_LISTEN): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.Log.Warn("pprof endpoint enabled", "addr", ln.Addr().String())
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
