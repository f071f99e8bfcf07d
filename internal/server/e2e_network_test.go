package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// edgeNode is a node started with network-edge settings, on its own listeners.
type edgeNode struct {
	addr, redirectAddr string
}

// startEdgeNode starts a node through servertest.StartWith with configure applied to its
// settings.
func startEdgeNode(t *testing.T, dialect string, configure func(*config.Config)) *edgeNode {
	t.Helper()
	n := servertest.StartWith(t, dialect, configure)
	return &edgeNode{addr: strings.TrimPrefix(n.URL, "http://")}
}

// startTLSNode starts a node like servertest.Start, with configure applied to its settings, on
// its own listeners: servertest serves one plain listener, and this one adds the redirect
// listener (on a free port, when configure sets COFFER_HTTP_REDIRECT_LISTEN).
func startTLSNode(t *testing.T, dialect string, configure func(*config.Config)) *edgeNode {
	t.Helper()
	cfg := &config.Config{Listen: "127.0.0.1:0", LogLevel: "debug", LogFormat: "json", MaxBodyBytes: 1 << 20,
		ShutdownTimeout: 5 * time.Second, DataDir: t.TempDir(), ProxyProtocol: config.ProxyProtocolOff}
	k, err := keyring.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootKey = keyring.EncodeRootKey(k)
	cfg.AuthSecret = "test-auth-secret-" + strings.Repeat("x", 32)
	if dialect == store.Postgres {
		cfg.DatabaseURL = testenv.PostgresURL(t)
	} else {
		cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "coffer.db")
	}
	configure(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		cancel()
		t.Fatalf("start node: %v", err)
	}
	ls := server.Listeners{Main: listen(t)}
	n := &edgeNode{addr: ls.Main.Addr().String()}
	if cfg.HTTPRedirectListen != "" {
		ls.Redirect = listen(t)
		n.redirectAddr = ls.Redirect.Addr().String()
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeListeners(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with error: %v", err)
		}
		srv.Close()
	})
	return n
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// via is where a test client's requests seem to come from: the PROXY v2 header a load
// balancer would send (none when src is empty), with the AWS VPC endpoint TLV when vpce is set.
type via struct {
	src, vpce string
	xff       string // X-Forwarded-For to add
}

func (v via) httpClient() *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil || v.src == "" {
			return c, err
		}
		h := proxyproto.HeaderProxyFromAddrs(2, &net.TCPAddr{IP: net.ParseIP(v.src), Port: 40000}, &net.TCPAddr{IP: net.ParseIP("10.0.0.10"), Port: 443})
		if v.vpce != "" {
			if err := h.SetTLVs([]proxyproto.TLV{{Type: 0xEA, Value: append([]byte{0x01}, v.vpce...)}}); err != nil {
				c.Close()
				return nil, err
			}
		}
		if _, err := h.WriteTo(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}
	var rt http.RoundTripper = tr
	if v.xff != "" {
		rt = xffTransport{tr, v.xff}
	}
	return &http.Client{Transport: rt, Timeout: 20 * time.Second}
}

type xffTransport struct {
	next http.RoundTripper
	xff  string
}

func (x xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", x.xff)
	return x.next.RoundTrip(r)
}

func (n *edgeNode) client(v via, token string) *client.Client {
	return client.New("http://"+n.addr, client.WithHTTPClient(v.httpClient()), client.WithToken(token))
}

// machine is an identity with universal auth and a client secret.
type machine struct {
	id, clientID, secret string
}

// newMachine creates an identity whose universal auth is configured with ua (the attach body).
func newMachine(t *testing.T, admin *client.Client, orgID string, ua map[string]any) machine {
	t.Helper()
	ctx := context.Background()
	ident, err := admin.CreateIdentity(ctx, orgID, "edge-"+store.NewID()[:8], "member")
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		UA struct {
			ClientID string   `json:"clientId"`
			VPCEs    []string `json:"trustedVpcEndpointIds"`
		} `json:"identityUniversalAuth"`
	}
	if err := admin.Do(ctx, "POST", "/api/v1/auth/universal-auth/identities/"+ident.ID, nil, ua, &out); err != nil {
		t.Fatalf("attach universal auth %v: %v", ua, err)
	}
	cs, err := admin.CreateClientSecret(ctx, ident.ID, "edge", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return machine{id: ident.ID, clientID: out.UA.ClientID, secret: cs.Secret}
}

const (
	vpceA = "vpce-0aaaaaaaaaaaaaaaa"
	vpceB = "vpce-0bbbbbbbbbbbbbbbb"
)

// TestE2EPrivateLinkAndTrustedIPs runs behind a PROXY protocol v2 sender (an NLB): identities
// limited to a VPC endpoint or to a CIDR block log in and use their tokens from there only.
func TestE2EPrivateLinkAndTrustedIPs(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := startEdgeNode(t, dialect, func(c *config.Config) {
			c.ProxyProtocol, c.TrustedProxies = config.ProxyProtocolOn, "127.0.0.0/8"
		})
		ctx := context.Background()
		office := via{src: "198.51.100.20"}
		boot, err := n.client(office, "").Bootstrap(ctx, "admin@example.com", "correct horse battery staple", "Acme")
		if err != nil {
			t.Fatalf("bootstrap through PROXY: %v", err)
		}
		admin := n.client(office, boot.Identity.Credentials.Token)
		orgID := boot.Organization.ID

		// Without a PROXY header the connection is refused: the listener requires one.
		if _, err := client.New("http://"+n.addr, client.WithHTTPClient(via{}.httpClient())).Status(ctx); err == nil {
			t.Error("a request without a PROXY header was served")
		}

		// Validation names the field and changes nothing.
		for _, bad := range []string{"vpce-XYZ", "vpc-0aaaaaaaaaaaaaaaa", ""} {
			ident, err := admin.CreateIdentity(ctx, orgID, "bad-"+store.NewID()[:8], "member")
			if err != nil {
				t.Fatal(err)
			}
			err = admin.Do(ctx, "POST", "/api/v1/auth/universal-auth/identities/"+ident.ID, nil, map[string]any{"trustedVpcEndpointIds": []string{bad}}, nil)
			if client.StatusCode(err) != http.StatusBadRequest && client.StatusCode(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "trustedVpcEndpointIds[0]") {
				t.Errorf("attach with %q: %v; want a validation error naming trustedVpcEndpointIds[0]", bad, err)
			}
			if _, err := admin.GetUniversalAuth(ctx, ident.ID); client.StatusCode(err) != http.StatusNotFound {
				t.Errorf("after a refused attach, get = %v; want 404", err)
			}
		}

		pl := newMachine(t, admin, orgID, map[string]any{"trustedVpcEndpointIds": []string{vpceA}})
		var got struct {
			UA struct {
				VPCEs []string `json:"trustedVpcEndpointIds"`
			} `json:"identityUniversalAuth"`
		}
		if err := admin.Do(ctx, "GET", "/api/v1/auth/universal-auth/identities/"+pl.id, nil, nil, &got); err != nil || len(got.UA.VPCEs) != 1 || got.UA.VPCEs[0] != vpceA {
			t.Fatalf("get universal auth = %+v, %v; want trustedVpcEndpointIds [%s]", got, err, vpceA)
		}

		fromA, fromB, fromNone := via{src: "10.20.0.5", vpce: vpceA}, via{src: "10.20.0.5", vpce: vpceB}, via{src: "10.20.0.5"}
		for name, tc := range map[string]struct {
			v    via
			want int
		}{"vpce-A": {fromA, 200}, "vpce-B": {fromB, 403}, "no endpoint": {fromNone, 403}} {
			_, err := n.client(tc.v, "").UniversalAuthLogin(ctx, pl.clientID, pl.secret)
			if got := status(err); got != tc.want {
				t.Errorf("login through %s = %d (%v), want %d", name, got, err, tc.want)
			}
		}
		tok, err := n.client(fromA, "").UniversalAuthLogin(ctx, pl.clientID, pl.secret)
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			v    via
			want int
		}{"vpce-A": {fromA, 200}, "vpce-B": {fromB, 403}, "no endpoint": {fromNone, 403}} {
			err := n.client(tc.v, tok.AccessToken).Do(ctx, "GET", "/api/v1/auth/me", nil, nil, nil)
			if got := status(err); got != tc.want {
				t.Errorf("token used through %s = %d (%v), want %d", name, got, err, tc.want)
			}
		}

		// Lifting the limit (an empty list) lets the same token through from anywhere.
		if err := admin.Do(ctx, "PATCH", "/api/v1/auth/universal-auth/identities/"+pl.id, nil, map[string]any{"trustedVpcEndpointIds": []string{}}, &got); err != nil || len(got.UA.VPCEs) != 0 {
			t.Fatalf("update to no endpoints = %+v, %v", got, err)
		}
		if err := n.client(fromNone, tok.AccessToken).Do(ctx, "GET", "/api/v1/auth/me", nil, nil, nil); err != nil {
			t.Errorf("after lifting the limit, token without an endpoint: %v", err)
		}

		// Trusted IPs see the address of the PROXY header.
		cidr := newMachine(t, admin, orgID, map[string]any{
			"clientSecretTrustedIps": []map[string]string{{"ipAddress": "10.1.0.0/16"}},
			"accessTokenTrustedIps":  []map[string]string{{"ipAddress": "10.1.0.0/16"}},
		})
		inside, outside := via{src: "10.1.2.3"}, via{src: "10.2.0.1"}
		if _, err := n.client(outside, "").UniversalAuthLogin(ctx, cidr.clientID, cidr.secret); status(err) != 403 {
			t.Errorf("login from outside 10.1.0.0/16 = %v; want 403", err)
		}
		tok, err = n.client(inside, "").UniversalAuthLogin(ctx, cidr.clientID, cidr.secret)
		if err != nil {
			t.Fatalf("login from inside 10.1.0.0/16: %v", err)
		}
		if err := n.client(outside, tok.AccessToken).Do(ctx, "GET", "/api/v1/auth/me", nil, nil, nil); status(err) != 403 {
			t.Errorf("token used from outside 10.1.0.0/16 = %v; want 403", err)
		}
		if err := n.client(inside, tok.AccessToken).Do(ctx, "GET", "/api/v1/auth/me", nil, nil, nil); err != nil {
			t.Errorf("token used from inside 10.1.0.0/16: %v", err)
		}
	})
}

func status(err error) int {
	if err == nil {
		return 200
	}
	if s := client.StatusCode(err); s != 0 {
		return s
	}
	return -1
}

// TestE2EForwardedFor: X-Forwarded-For is believed from a trusted proxy (an ALB) only.
func TestE2EForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		name, trusted string
		want          int
	}{
		{name: "spoofed by an untrusted peer", trusted: "10.0.0.0/8", want: 403},
		{name: "from a trusted proxy", trusted: "127.0.0.0/8", want: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startEdgeNode(t, store.SQLite, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			ctx := context.Background()
			boot, err := n.client(via{}, "").Bootstrap(ctx, "admin@example.com", "correct horse battery staple", "Acme")
			if err != nil {
				t.Fatal(err)
			}
			admin := n.client(via{}, boot.Identity.Credentials.Token)
			m := newMachine(t, admin, boot.Organization.ID, map[string]any{
				"clientSecretTrustedIps": []map[string]string{{"ipAddress": "192.0.2.44"}},
			})
			_, err = n.client(via{xff: "192.0.2.44"}, "").UniversalAuthLogin(ctx, m.clientID, m.secret)
			if got := status(err); got != tc.want {
				t.Errorf("login with X-Forwarded-For: 192.0.2.44 = %d (%v), want %d", got, err, tc.want)
			}
		})
	}
}

// TestE2ETLSAndRedirect serves HTTPS with a certificate made here, and the redirect listener.
func TestE2ETLSAndRedirect(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	n := startTLSNode(t, store.SQLite, func(c *config.Config) {
		c.TLSCertFile, c.TLSKeyFile, c.HTTPRedirectListen = certFile, keyFile, "127.0.0.1:0"
	})
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := https.Get("https://" + n.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "max-age=63072000; includeSubDomains" {
		t.Errorf("HTTPS /readyz = %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, port, _ := net.SplitHostPort(n.addr)
	for _, tc := range []struct {
		path, location string
		status         int
	}{
		{"/api/v3/secrets/raw?environment=dev&secretPath=%2Fapp", "https://localhost:" + port + "/api/v3/secrets/raw?environment=dev&secretPath=%2Fapp", 301},
		{"/", "https://localhost:" + port + "/", 301},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
		{"/api/status", "", 200},
	} {
		req, _ := http.NewRequest("GET", "http://"+n.redirectAddr+tc.path, nil)
		req.Host = "localhost:8080"
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
			t.Errorf("http %s = %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("http %s: HSTS %q on plain HTTP", tc.path, hsts)
		}
	}
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}
