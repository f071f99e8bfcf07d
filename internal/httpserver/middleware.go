package httpserver

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
)

const requestIDHeader = "X-Request-Id"

// Options configures the middleware stack of Wrap.
type Options struct {
	// Log receives the access log, panics and internal errors; slog.Default() when nil.
	Log *slog.Logger
	// MaxBodyBytes limits request bodies; DefaultMaxBodyBytes when zero or negative.
	MaxBodyBytes int64
	// Authenticate resolves a bearer token presented from ip into an actor; nil means no
	// authentication (public routes only).
	Authenticate func(ctx context.Context, token string, ip netip.Addr) (*coffer.Actor, error)
	// TrustedProxies are the peers whose X-Forwarded-For header is believed (see clientIP).
	TrustedProxies []netip.Prefix
	// Sessions sets and checks the dashboard's session cookie and its CSRF token.
	Sessions Sessions
}

// Wrap returns h wrapped, outermost first, in: panic recovery, request id, access log,
// trailing-slash stripping, body limit, client IP (and VPC endpoint id) and bearer-token
// authentication. The access
// log has one line per request (Debug for /healthz, /readyz and /api/status, Info otherwise) and
// never contains the Authorization header, the query string or the body.
func Wrap(h http.Handler, opt Options) http.Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &stack{next: h, opt: opt}
}

type stack struct {
	next http.Handler
	opt  Options
}

type requestIDKey struct{}

type clientIPKey struct{}

// ServeHTTP runs the stack in order. Its deferred function is registered first, so panic
// recovery covers everything after it; it then writes the access-log line, which thereby also
// records requests that panicked.
func (s *stack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	path := r.URL.Path
	var id string
	var ip netip.Addr
	var vpce string
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			s.opt.Log.ErrorContext(r.Context(), "panic serving request", "req_id", id, "method", r.Method,
				"path", path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rec.status == 0 {
				writeErrorBody(rec, r, http.StatusInternalServerError, internalMessage)
				p = nil
			} else {
				p = http.ErrAbortHandler // too late for a 500: cut the response short
			}
		}
		s.accessLog(r, rec, path, id, ip, vpce, start)
		if p != nil {
			panic(p) // net/http aborts the response quietly
		}
	}()

	id = r.Header.Get(requestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	rec.Header().Set(requestIDHeader, id)
	ip, vpce = clientIP(r, s.opt.TrustedProxies)
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	ctx = withMaxBody(ctx, s.opt.MaxBodyBytes)
	ctx = context.WithValue(ctx, clientIPKey{}, ip)
	if vpce != "" {
		ctx = coffer.NewContextWithVPCEndpointID(ctx, vpce)
	}
	r = r.WithContext(ctx)
	if p := r.URL.Path; p != "/" && strings.HasSuffix(p, "/") {
		u := *r.URL
		u.Path = cmp.Or(strings.TrimRight(p, "/"), "/")
		if u.RawPath != "" {
			u.RawPath = cmp.Or(strings.TrimRight(u.RawPath, "/"), "/")
		}
		r.URL = &u
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
	}
	r, err := s.authenticate(r, ip)
	if err != nil {
		WriteError(rec, r, s.opt.Log, err)
		return
	}
	s.next.ServeHTTP(rec, r)
}

// authenticate puts the actor of a bearer token in the request context. A request without an
// Authorization header, or any request when Options.Authenticate is nil, stays anonymous.
func (s *stack) authenticate(r *http.Request, ip netip.Addr) (*http.Request, error) {
	values := r.Header.Values("Authorization")
	if s.opt.Authenticate == nil {
		return r, nil
	}
	if len(values) == 0 {
		return s.authenticateCookie(r, ip) // the dashboard's session cookie, CSRF-checked
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") || token == "" ||
		strings.ContainsAny(token, " \t") {
		return r, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid authorization header")
	}
	a, err := s.opt.Authenticate(r.Context(), token, ip)
	if err != nil {
		return r, err
	}
	if a == nil {
		return r, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid token")
	}
	actor := *a // the caller's actor may be shared, e.g. cached
	actor.IP = ip
	actor.UserAgent = r.UserAgent()
	return r.WithContext(coffer.NewContextWithActor(r.Context(), &actor)), nil
}

// accessLog writes the one access-log line of a request: never its query string, headers
// other than the user agent, or body.
func (s *stack) accessLog(r *http.Request, rec *recorder, path, id string, ip netip.Addr, vpce string, start time.Time) {
	level := slog.LevelInfo
	switch strings.TrimRight(path, "/") {
	case "/healthz", "/readyz", "/api/status":
		level = slog.LevelDebug
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("req_id", id),
		slog.String("ip", ipString(ip)),
		slog.String("user_agent", r.UserAgent()),
	}
	if vpce != "" {
		attrs = append(attrs, slog.String("vpce", vpce))
	}
	s.opt.Log.LogAttrs(r.Context(), level, "http request", attrs...)
}

func ipString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}

// RequestID returns the request id from the context ("" if none).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID reports whether a client's X-Request-Id matches ^[A-Za-z0-9._-]{1,64}$.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newRequestID returns "req-" and 14 random alphanumerics.
func newRequestID() string {
	const n = 14
	out := make([]byte, 0, 4+n)
	out = append(out, "req-"...)
	var b [32]byte
	for len(out) < cap(out) {
		rand.Read(b[:])
		for _, c := range b {
			// 248 = 4*62: rejecting the rest keeps every character equally likely.
			if c < 248 && len(out) < cap(out) {
				out = append(out, alphanumerics[c%62])
			}
		}
	}
	return string(out)
}

// ClientIP returns the client address of the request: the one the middleware resolved, or
// outside the middleware the host of RemoteAddr (or of the PROXY header). The zero Addr means
// unknown.
func ClientIP(r *http.Request) netip.Addr {
	if ip, ok := r.Context().Value(clientIPKey{}).(netip.Addr); ok {
		return ip
	}
	ip, _ := clientIP(r, nil)
	return ip
}

// clientIP is the one place that decides the real client address of a request, and the AWS
// VPC endpoint id it came through:
//   - A connection that began with a PROXY protocol header (believed only from trusted proxies,
//     see ProxyListener) comes from the header's source address, and X-Forwarded-For is not
//     consulted: the header is what the load balancer saw. The VPC endpoint id is the header's
//     AWS TLV (PrivateLink), "" otherwise.
//   - Otherwise the TCP peer is the client, unless it is in trusted: then X-Forwarded-For is
//     walked from the right, skipping trusted hops, and the first untrusted address is the
//     client (the leftmost one when all are trusted; the last good hop when an entry does not
//     parse). An untrusted peer's X-Forwarded-For is ignored.
func clientIP(r *http.Request, trusted []netip.Prefix) (netip.Addr, string) {
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		if ip, vpce, ok := connOrigin(c); ok {
			return ip, vpce
		}
	}
	peer := remoteIP(r.RemoteAddr)
	if !inPrefixes(trusted, peer) {
		return peer, ""
	}
	hops := r.Header.Values("X-Forwarded-For")
	ip := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip, ""
			}
			ip = hop.Unmap()
			if !inPrefixes(trusted, ip) {
				return ip, ""
			}
		}
	}
	return ip, ""
}

// remoteIP is the host of an http.Request's RemoteAddr.
func remoteIP(addr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

// RequireActor returns the actor of the request, or EUNAUTHORIZED "Token missing" when the
// request is anonymous.
func RequireActor(r *http.Request) (*coffer.Actor, error) {
	if a := coffer.ActorFromContext(r.Context()); a != nil {
		return a, nil
	}
	return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Token missing")
}

// recorder remembers the status and size of a response for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the recorder.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush() //nolint:errcheck // best effort
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
