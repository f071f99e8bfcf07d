package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// errDraining is the readiness error of a stopping node.
var errDraining = coffer.Errorf(coffer.EUNAVAILABLE, "Draining: this node is shutting down")

// edge is the network edge of a node from its configuration: trusted proxies, PROXY protocol
// and TLS.
type edge struct {
	trusted []netip.Prefix
	proxy   httpserver.ProxyMode
	certs   *httpserver.CertReloader // nil: plain HTTP
	tls     *tls.Config
}

func newEdge(cfg *config.Config, log *slog.Logger) (*edge, error) {
	trusted, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return nil, fmt.Errorf("COFFER_TRUSTED_PROXIES: %w", err)
	}
	e := &edge{trusted: trusted, proxy: httpserver.ProxyMode(cfg.ProxyProtocol)}
	if cfg.TLS() {
		e.certs, err = httpserver.NewCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile, log)
		if err != nil {
			return nil, fmt.Errorf("COFFER_TLS_CERT_FILE / COFFER_TLS_KEY_FILE: %w", err)
		}
		e.tls = httpserver.TLSConfig(e.certs)
	}
	return e, nil
}

// Listeners are the sockets a node serves.
type Listeners struct {
	// Main is COFFER_LISTEN: HTTPS when TLS is configured, plain HTTP otherwise.
	Main net.Listener
	// Redirect is COFFER_HTTP_REDIRECT_LISTEN, answering 301 to HTTPS; nil when not configured.
	Redirect net.Listener
}

// ServeListeners serves until ctx is done (SIGTERM or SIGINT in the server command), then
// turns not ready at once (/readyz answers 503), keeps serving in-flight and new requests for
// COFFER_SHUTDOWN_DRAIN, and shuts down gracefully within COFFER_SHUTDOWN_TIMEOUT. Both
// listeners read PROXY protocol headers when COFFER_PROXY_PROTOCOL says so. It closes them.
func (s *Server) ServeListeners(ctx context.Context, ls Listeners) error {
	eps, err := s.endpoints(ls)
	if err != nil {
		ls.Main.Close()
		if ls.Redirect != nil {
			ls.Redirect.Close()
		}
		return err
	}
	return s.http.Run(ctx, httpserver.Lifecycle{Drain: s.Config.ShutdownDrain, ShutdownTimeout: s.Config.ShutdownTimeout}, eps...)
}

// endpoints wraps the listeners in the PROXY protocol reader and gives each its TLS and
// handler.
func (s *Server) endpoints(ls Listeners) ([]httpserver.Endpoint, error) {
	main, err := httpserver.ProxyListener(ls.Main, s.edge.proxy, s.edge.trusted)
	if err != nil {
		return nil, fmt.Errorf("COFFER_PROXY_PROTOCOL: %w", err)
	}
	eps := []httpserver.Endpoint{{Listener: main, TLS: s.edge.tls}}
	if ls.Redirect == nil {
		return eps, nil
	}
	if s.edge.tls == nil {
		return nil, fmt.Errorf("COFFER_HTTP_REDIRECT_LISTEN needs TLS on COFFER_LISTEN")
	}
	rl, err := httpserver.ProxyListener(ls.Redirect, s.edge.proxy, s.edge.trusted)
	if err != nil {
		return nil, fmt.Errorf("COFFER_PROXY_PROTOCOL: %w", err)
	}
	return append(eps, httpserver.Endpoint{Listener: rl, Handler: httpserver.RedirectToHTTPS(s.Handler, s.httpsPort(ls.Main))}), nil
}

// EndDrain cuts the drain of ServeListeners short (a second signal).
func (s *Server) EndDrain() { s.http.EndDrain() }

// httpsPort is the port redirects point to: that of an https:// COFFER_SITE_URL (none when it
// has none: 443), otherwise that of the HTTPS listener.
func (s *Server) httpsPort(ln net.Listener) string {
	if u, err := url.Parse(s.Config.SiteURL); err == nil && u.Scheme == "https" && u.Host != "" {
		return u.Port()
	}
	if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		return port
	}
	return ""
}
