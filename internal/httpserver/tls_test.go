package httpserver_test

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

	"github.com/cofferhq/coffer/internal/httpserver"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, in PEM.
type testCert struct {
	certPEM, keyPEM []byte
	serial          *big.Int
	pool            *x509.CertPool
}

func newTestCert(t testing.TB, serial int64) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "coffer test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		serial:  big.NewInt(serial), pool: pool,
	}
}

// write replaces the files the way an operator (or cert-manager) does: write aside, rename.
func (c testCert) write(t testing.TB, certFile, keyFile string) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{keyFile, c.keyPEM}, {certFile, c.certPEM}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
}

// tlsNode serves ok on HTTPS with a CertReloader over files in a temp dir.
type tlsNode struct {
	addr              string
	certFile, keyFile string
	logs              *syncBuffer
}

func startTLS(t *testing.T, first testCert) *tlsNode {
	t.Helper()
	dir := t.TempDir()
	n := &tlsNode{certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key")}
	first.write(t, n.certFile, n.keyFile)
	var log *slog.Logger
	log, n.logs = newLogger(slog.LevelInfo)
	r, err := httpserver.NewCertReloader(n.certFile, n.keyFile, log)
	if err != nil {
		t.Fatal(err)
	}
	r.Interval = time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = ln.Addr().String()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpserver.NewServer(h, log).Run(ctx, httpserver.Lifecycle{ShutdownTimeout: 5 * time.Second},
			httpserver.Endpoint{Listener: ln, TLS: httpserver.TLSConfig(r)})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return n
}

// servedSerial returns the serial number of the certificate the server presents.
func (n *tlsNode) servedSerial(t *testing.T) *big.Int {
	t.Helper()
	c, err := tls.Dial("tcp", n.addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test reads the served certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestTLSCertificateReload(t *testing.T) {
	first, second := newTestCert(t, 1), newTestCert(t, 2)
	n := startTLS(t, first)
	if got := n.servedSerial(t); got.Cmp(first.serial) != 0 {
		t.Fatalf("serial before the swap = %v, want %v", got, first.serial)
	}

	second.write(t, n.certFile, n.keyFile)
	waitFor(t, "the new certificate to be served", func() bool { return n.servedSerial(t).Cmp(second.serial) == 0 })

	// A broken pair (the key of another certificate) is refused; the previous one stays.
	broken := testCert{certPEM: first.certPEM, keyPEM: newTestCert(t, 3).keyPEM}
	broken.write(t, n.certFile, n.keyFile)
	waitFor(t, "the broken pair to be reported", func() bool {
		n.servedSerial(t) // the files are looked at on a handshake
		return strings.Contains(n.logs.String(), "do not load; keeping the previous certificate")
	})
	if got := n.servedSerial(t); got.Cmp(second.serial) != 0 {
		t.Errorf("serial after a broken swap = %v, want the previous %v", got, second.serial)
	}

	// A good pair after the broken one is picked up again.
	first.write(t, n.certFile, n.keyFile)
	waitFor(t, "the good pair after the broken one", func() bool { return n.servedSerial(t).Cmp(first.serial) == 0 })
}

func TestTLSVersionsAndHSTS(t *testing.T) {
	cert := newTestCert(t, 7)
	n := startTLS(t, cert)
	if v := httpserver.TLSConfig(nil).MinVersion; v != tls.VersionTLS12 {
		t.Errorf("MinVersion = %s, want TLS 1.2", tls.VersionName(v))
	}

	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		c, err := tls.Dial("tcp", n.addr, &tls.Config{RootCAs: cert.pool, MinVersion: v, MaxVersion: v}) //nolint:gosec // the test checks they are refused
		if err == nil {
			c.Close()
			t.Errorf("a handshake at %s succeeded; want it refused", tls.VersionName(v))
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, h2 := range []bool{false, true} {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.pool, MinVersion: v, MaxVersion: v}, ForceAttemptHTTP2: h2}
			resp, err := (&http.Client{Transport: tr}).Get("https://" + n.addr + "/")
			if err != nil {
				t.Fatalf("%s: %v", tls.VersionName(v), err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
				t.Errorf("%s %s: Strict-Transport-Security = %q", tls.VersionName(v), resp.Proto, got)
			}
			tr.CloseIdleConnections()
		}
	}
}

func TestNewCertReloaderRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := newTestCert(t, 1), newTestCert(t, 2)
	cert, key := filepath.Join(dir, "c"), filepath.Join(dir, "k")
	testCert{certPEM: a.certPEM, keyPEM: b.keyPEM}.write(t, cert, key)
	if _, err := httpserver.NewCertReloader(cert, key, nil); err == nil {
		t.Error("a mismatched pair loaded")
	}
	if _, err := httpserver.NewCertReloader(filepath.Join(dir, "missing"), key, nil); err == nil {
		t.Error("a missing certificate file loaded")
	}
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
