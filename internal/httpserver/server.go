package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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

// hstsValue is the Strict-Transport-Security header of every HTTPS response: two years,
// subdomains included.
const hstsValue = "max-age=63072000; includeSubDomains"

// Server serves a handler on one or more listeners and stops them together: it first drains
// (keeps serving while Draining reports true, so /readyz can turn the node out of its load
// balancer), then shuts down gracefully.
type Server struct {
	handler  http.Handler
	log      *slog.Logger
	draining atomic.Bool
	endDrain chan struct{} // closed by EndDrain
	endOnce  sync.Once
}

// NewServer returns a Server for h that logs to log (slog.Default() when nil).
func NewServer(h http.Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{handler: h, log: log, endDrain: make(chan struct{})}
}

// EndDrain cuts the drain short: Run shuts down at once if it is draining, or as soon as its
// context is done. The server command calls it on a second SIGINT or SIGTERM.
func (s *Server) EndDrain() { s.endOnce.Do(func() { close(s.endDrain) }) }

// SetHandler replaces the handler; call it before Run. It lets the handler's readiness check
// refer to the Server that will serve it.
func (s *Server) SetHandler(h http.Handler) { s.handler = h }

// Draining reports whether the server is stopping: from the moment Run's context is done until
// Run returns. A readiness check should fail while it is true.
func (s *Server) Draining() bool { return s.draining.Load() }

// Lifecycle is the stop sequence of Run.
type Lifecycle struct {
	// Drain is how long Run keeps serving, in-flight and new requests alike, once its context is
	// done and before it shuts down. Every response of the drain carries Connection: close
	// (a GOAWAY on HTTP/2), so keep-alive clients move to other nodes.
	Drain time.Duration
	// ShutdownTimeout is how long in-flight requests get to finish after the drain.
	ShutdownTimeout time.Duration
}

// Endpoint is one listener of Run.
type Endpoint struct {
	Listener net.Listener
	// TLS, when set, makes the endpoint serve HTTPS (HTTP/2 and HTTP/1.1) with this
	// configuration, and adds the HSTS header to its responses.
	TLS *tls.Config
	// Handler serves the endpoint; nil means the Server's handler.
	Handler http.Handler
}

// Serve serves plain HTTP on ln until ctx is done, then shuts down at once, giving in-flight
// requests up to shutdownTimeout. See Run.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	return s.Run(ctx, Lifecycle{ShutdownTimeout: shutdownTimeout}, Endpoint{Listener: ln})
}

// Run serves every endpoint until ctx is done, drains for lc.Drain, then shuts down: it stops
// accepting connections and gives in-flight requests up to lc.ShutdownTimeout to finish before
// closing them. Request contexts are not canceled by ctx. It returns nil on a clean stop, and an
// error when an endpoint fails (the others are then shut down at once) or in-flight requests
// outlast the timeout. Run closes the listeners.
func (s *Server) Run(ctx context.Context, lc Lifecycle, eps ...Endpoint) error {
	if len(eps) == 0 {
		return errors.New("httpserver: no listener to serve")
	}
	servers := make([]*http.Server, len(eps))
	errc := make(chan error, len(eps))
	for i, ep := range eps {
		srv := s.httpServer(ctx, ep)
		servers[i] = srv
		addr := ep.Listener.Addr().String()
		go func() {
			var err error
			if ep.TLS != nil {
				err = srv.ServeTLS(ep.Listener, "", "")
			} else {
				err = srv.Serve(ep.Listener)
			}
			if errors.Is(err, http.ErrServerClosed) {
				errc <- nil
				return
			}
			errc <- fmt.Errorf("serve %s: %w", addr, err)
		}()
		scheme := "http"
		if ep.TLS != nil {
			scheme = "https"
		}
		s.log.Info("http server listening", "addr", addr, "scheme", scheme)
	}

	var err error
	pending := len(eps)
	select {
	case err = <-errc: // an endpoint stopped by itself: no drain
		pending--
		s.draining.Store(true)
	case <-ctx.Done():
		s.draining.Store(true)
		if lc.Drain > 0 {
			s.log.Info("draining: not ready, still serving", "drain", lc.Drain.String())
			t := time.NewTimer(lc.Drain)
			select {
			case <-t.C:
			case <-s.endDrain:
				s.log.Info("drain cut short")
				t.Stop()
			case err = <-errc:
				pending--
				t.Stop()
			}
		}
	}
	s.log.Info("http server shutting down", "timeout", lc.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), lc.ShutdownTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() {
			if serr := srv.Shutdown(sctx); serr != nil {
				srv.Close() //nolint:errcheck // Shutdown's error is the one to report
				mu.Lock()
				err = errors.Join(err, fmt.Errorf("shut down %s: %w", eps[i].Listener.Addr(), serr))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for ; pending > 0; pending-- {
		err = errors.Join(err, <-errc)
	}
	if err == nil {
		s.log.Info("http server stopped")
	}
	return err
}

// httpServer returns the http.Server of one endpoint.
func (s *Server) httpServer(ctx context.Context, ep Endpoint) *http.Server {
	h := ep.Handler
	if h == nil {
		h = s.handler
	}
	hsts := ep.TLS != nil
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hsts {
				w.Header().Set("Strict-Transport-Security", hstsValue)
			}
			if s.draining.Load() {
				w.Header().Set("Connection", "close")
			}
			h.ServeHTTP(w, r)
		}),
		TLSConfig:         ep.TLS,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
	}
}

// connKey holds the request's net.Conn in its context, for the client-IP middleware to read
// what the PROXY protocol header said.
type connKey struct{}
