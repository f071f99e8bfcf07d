package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// origin is what echoOrigin answers: the client IP and VPC endpoint the middleware resolved.
type origin struct {
	IP   string `json:"ip"`
	VPCE string `json:"vpce"`
}

func echoOrigin(trusted []netip.Prefix) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(origin{IP: httpserver.ClientIP(r).String(), VPCE: coffer.VPCEndpointIDFromContext(r.Context())})
	})
	return httpserver.Wrap(h, httpserver.Options{Log: slog.New(slog.DiscardHandler), TrustedProxies: trusted})
}

func prefixes(t testing.TB, s ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestClientIPForwardedFor(t *testing.T) {
	trusted := prefixes(t, "10.0.0.0/8", "::1/128")
	h := echoOrigin(trusted)
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{name: "untrusted peer's header is ignored", peer: "198.51.100.9:4000", xff: []string{"1.2.3.4"}, want: "198.51.100.9"},
		{name: "untrusted peer, no header", peer: "198.51.100.9:4000", want: "198.51.100.9"},
		{name: "trusted peer, no header", peer: "10.0.0.5:4000", want: "10.0.0.5"},
		{name: "trusted peer, one hop", peer: "10.0.0.5:4000", xff: []string{"1.2.3.4"}, want: "1.2.3.4"},
		{name: "client-supplied entries left of the first untrusted hop are ignored", peer: "10.0.0.5:4000", xff: []string{"9.9.9.9, 1.2.3.4, 10.0.0.7"}, want: "1.2.3.4"},
		{name: "several header lines are one list", peer: "10.0.0.5:4000", xff: []string{"9.9.9.9", "1.2.3.4"}, want: "1.2.3.4"},
		{name: "all hops trusted: the leftmost", peer: "10.0.0.5:4000", xff: []string{"10.0.0.1, 10.0.0.2"}, want: "10.0.0.1"},
		{name: "an unparsable entry stops the walk", peer: "10.0.0.5:4000", xff: []string{"garbage, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "an unparsable last entry leaves the peer", peer: "10.0.0.5:4000", xff: []string{"1.2.3.4:80"}, want: "10.0.0.5"},
		{name: "IPv6", peer: "[::1]:4000", xff: []string{"2001:db8::1"}, want: "2001:db8::1"},
		{name: "IPv4-mapped peer", peer: "[::ffff:10.0.0.5]:4000", xff: []string{"1.2.3.4"}, want: "1.2.3.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var got origin
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.IP != tc.want || got.VPCE != "" {
				t.Errorf("client = %+v, want ip %s and no VPC endpoint", got, tc.want)
			}
		})
	}
}

// proxyClient returns an HTTP client whose every connection starts with header (none when nil).
func proxyClient(header func() *proxyproto.Header) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil || header == nil {
			return c, err
		}
		if _, err := header().WriteTo(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

const testVPCE = "vpce-0a1b2c3d4e5f60718"

// proxyHeader is a PROXY header from client 203.0.113.7:51000, version 1 or 2, with the AWS
// VPC endpoint TLV when vpce is set (version 2 only).
func proxyHeader(version byte, vpce string) func() *proxyproto.Header {
	return func() *proxyproto.Header {
		h := proxyproto.HeaderProxyFromAddrs(version,
			&net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 51000}, &net.TCPAddr{IP: net.ParseIP("10.0.0.10"), Port: 443})
		if vpce != "" {
			if err := h.SetTLVs([]proxyproto.TLV{{Type: 0xEA, Value: append([]byte{0x01}, vpce...)}}); err != nil {
				panic(err)
			}
		}
		return h
	}
}

func localHeader() *proxyproto.Header {
	return &proxyproto.Header{Version: 2, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}
}

// startEdge serves echoOrigin behind a PROXY listener and returns its base URL.
func startEdge(t *testing.T, mode httpserver.ProxyMode, trusted []netip.Prefix) string {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := httpserver.ProxyListener(raw, mode, trusted)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpserver.NewServer(echoOrigin(trusted), slog.New(slog.DiscardHandler)).Serve(ctx, ln, 5*time.Second)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return "http://" + raw.Addr().String()
}

func TestProxyProtocol(t *testing.T) {
	loopback := prefixes(t, "127.0.0.0/8")
	elsewhere := prefixes(t, "10.0.0.0/8")
	type call struct {
		header func() *proxyproto.Header
		xff    string
		want   *origin // nil: the connection must fail
	}
	for _, tc := range []struct {
		name    string
		mode    httpserver.ProxyMode
		trusted []netip.Prefix
		calls   map[string]call
	}{
		{name: "on, any sender", mode: httpserver.ProxyOn, calls: map[string]call{
			"v1":              {header: proxyHeader(1, ""), want: &origin{IP: "203.0.113.7"}},
			"v2":              {header: proxyHeader(2, ""), want: &origin{IP: "203.0.113.7"}},
			"v2 with vpce":    {header: proxyHeader(2, testVPCE), want: &origin{IP: "203.0.113.7", VPCE: testVPCE}},
			"v2 LOCAL":        {header: localHeader, want: &origin{IP: "127.0.0.1"}},
			"no header":       {},
			"XFF after PROXY": {header: proxyHeader(2, ""), xff: "198.51.100.1", want: &origin{IP: "203.0.113.7"}},
		}},
		{name: "on, trusted sender", mode: httpserver.ProxyOn, trusted: loopback, calls: map[string]call{
			"v2 with vpce": {header: proxyHeader(2, testVPCE), want: &origin{IP: "203.0.113.7", VPCE: testVPCE}},
			"no header":    {},
		}},
		{name: "on, untrusted sender", mode: httpserver.ProxyOn, trusted: elsewhere, calls: map[string]call{
			"v2 with vpce": {header: proxyHeader(2, testVPCE)},
			"no header":    {},
		}},
		{name: "optional, trusted sender", mode: httpserver.ProxyOptional, trusted: loopback, calls: map[string]call{
			"v1":           {header: proxyHeader(1, ""), want: &origin{IP: "203.0.113.7"}},
			"v2 with vpce": {header: proxyHeader(2, testVPCE), want: &origin{IP: "203.0.113.7", VPCE: testVPCE}},
			"no header":    {want: &origin{IP: "127.0.0.1"}},
		}},
		{name: "optional, untrusted sender", mode: httpserver.ProxyOptional, trusted: elsewhere, calls: map[string]call{
			"v2 with vpce": {header: proxyHeader(2, testVPCE)},
			"no header":    {want: &origin{IP: "127.0.0.1"}},
			"spoofed XFF":  {xff: "198.51.100.1", want: &origin{IP: "127.0.0.1"}},
		}},
		{name: "off", mode: httpserver.ProxyOff, trusted: loopback, calls: map[string]call{
			"v2 with vpce": {header: proxyHeader(2, testVPCE)},
			"no header":    {want: &origin{IP: "127.0.0.1"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startEdge(t, tc.mode, tc.trusted)
			for name, c := range tc.calls {
				req, _ := http.NewRequest("GET", url+"/", nil)
				if c.xff != "" {
					req.Header.Set("X-Forwarded-For", c.xff)
				}
				resp, err := proxyClient(c.header).Do(req)
				var got origin
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
						err = &unexpected{resp.StatusCode, string(body)}
					}
				}
				switch {
				case c.want == nil && err == nil:
					t.Errorf("%s: served as %+v; want the connection refused", name, got)
				case c.want != nil && err != nil:
					t.Errorf("%s: %v; want %+v", name, err, *c.want)
				case c.want != nil && got != *c.want:
					t.Errorf("%s: client = %+v, want %+v", name, got, *c.want)
				}
			}
		})
	}
}

type unexpected struct {
	status int
	body   string
}

func (u *unexpected) Error() string { return http.StatusText(u.status) + ": " + u.body }

func TestProxyListenerOptionalNeedsTrustedProxies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := httpserver.ProxyListener(ln, httpserver.ProxyOptional, nil); err == nil {
		t.Error("optional PROXY protocol without trusted proxies was accepted")
	}
	if _, err := httpserver.ProxyListener(ln, "sometimes", nil); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	health := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "healthy "+r.URL.Path) })
	for _, tc := range []struct {
		name, port, host, target string
		wantStatus               int
		want                     string // Location, or the body of a served path
	}{
		{name: "path and query kept, TLS port", port: "8443", host: "coffer.example.com:8080", target: "/api/v3/secrets/raw?environment=dev&x=%2F",
			wantStatus: 301, want: "https://coffer.example.com:8443/api/v3/secrets/raw?environment=dev&x=%2F"},
		{name: "port 443 left out", port: "443", host: "coffer.example.com", target: "/login",
			wantStatus: 301, want: "https://coffer.example.com/login"},
		{name: "no port", port: "", host: "coffer.example.com:80", target: "/",
			wantStatus: 301, want: "https://coffer.example.com/"},
		{name: "IPv6 literal", port: "8443", host: "[2001:db8::1]:8080", target: "/a",
			wantStatus: 301, want: "https://[2001:db8::1]:8443/a"},
		{name: "bad host", port: "443", host: "evil.example.com/x", target: "/",
			wantStatus: 400},
		{name: "healthz served", port: "443", host: "coffer.example.com", target: "/healthz", wantStatus: 200, want: "healthy /healthz"},
		{name: "readyz served", port: "443", host: "coffer.example.com", target: "/readyz", wantStatus: 200, want: "healthy /readyz"},
		{name: "status served", port: "443", host: "coffer.example.com", target: "/api/status/", wantStatus: 200, want: "healthy /api/status/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.target, nil)
			req.Host = tc.host
			rec := httptest.NewRecorder()
			httpserver.RedirectToHTTPS(health, tc.port).ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			switch tc.wantStatus {
			case 301:
				if got := rec.Header().Get("Location"); got != tc.want {
					t.Errorf("Location = %q, want %q", got, tc.want)
				}
			case 200:
				if got := rec.Body.String(); got != tc.want {
					t.Errorf("body = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestRunDrains(t *testing.T) {
	log, logs := newLogger(slog.LevelInfo)
	started, release := make(chan struct{}, 1), make(chan struct{})
	var srv *httpserver.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		if srv.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fast") })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "slow")
	})
	srv = httpserver.NewServer(mux, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The drain is long: the test ends it by itself only after checking what happens during it.
	go func() {
		done <- srv.Run(ctx, httpserver.Lifecycle{Drain: 3 * time.Second, ShutdownTimeout: 10 * time.Second}, httpserver.Endpoint{Listener: ln})
	}()

	client := &http.Client{Timeout: 20 * time.Second}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := get("/ready"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("before the signal: ready = %d, close = %v", resp.StatusCode, resp.Close)
	}
	if resp, _ := get("/fast"); resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain HTTP")
	}

	cancel() // SIGTERM
	waitFor(t, "Draining", srv.Draining)
	if resp, _ := get("/ready"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("during the drain: ready = %d, want 503", resp.StatusCode)
	}
	resp, body := get("/fast")
	if resp.StatusCode != 200 || body != "fast" {
		t.Errorf("during the drain: a new request = %d %q", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Error("during the drain: a response without Connection: close")
	}

	// A request in flight when the drain ends completes within the shutdown timeout.
	slow := make(chan string, 1)
	go func() {
		resp, err := client.Get(url + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	<-started
	waitFor(t, "the drain to end", func() bool { return strings.Contains(logs.String(), "http server shutting down") })
	select {
	case err := <-done:
		t.Fatalf("Run returned %v with a request in flight", err)
	default:
	}
	close(release)
	if got := <-slow; got != "slow" {
		t.Errorf("in-flight request = %q, want it completed", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if i, j := strings.Index(logs.String(), "draining"), strings.Index(logs.String(), "http server stopped"); i < 0 || j < i {
		t.Errorf("log lacks the drain and the stop in order:\n%s", logs)
	}
}

func TestRunEndDrain(t *testing.T) {
	log, logs := newLogger(slog.LevelInfo)
	srv := httpserver.NewServer(http.NotFoundHandler(), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.Run(ctx, httpserver.Lifecycle{Drain: time.Hour, ShutdownTimeout: time.Second}, httpserver.Endpoint{Listener: ln})
	}()
	cancel()
	waitFor(t, "the drain to start", func() bool { return strings.Contains(logs.String(), "draining") })
	srv.EndDrain()
	srv.EndDrain() // twice is harmless
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if !strings.Contains(logs.String(), "drain cut short") {
		t.Errorf("log lacks the cut:\n%s", logs)
	}
}
