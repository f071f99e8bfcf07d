package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/testenv"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their paths and a pool
// that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailpit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestSMTPTLSModes sends with STARTTLS and with implicit TLS, with AUTH, to servers that demand
// them, and checks that an untrusted certificate is refused.
func TestSMTPTLSModes(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	for _, tc := range []struct {
		mode string
		opt  testenv.MailpitOptions
	}{
		{TLSStartTLS, testenv.MailpitOptions{TLSCertFile: certFile, TLSKeyFile: keyFile, RequireSTARTTLS: true}},
		{TLSImplicit, testenv.MailpitOptions{TLSCertFile: certFile, TLSKeyFile: keyFile, ImplicitTLS: true}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			mp := testenv.StartMailpitWith(t, tc.opt)
			cfg := Config{Host: mp.SMTPHost(), Port: mp.SMTPPort(), Username: "ses-user", Password: "ses-pass", From: "coffer@example.com",
				TLS: tc.mode, Timeout: 5 * time.Second, TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
			m := Message{To: "tls@example.com", Subject: "over " + tc.mode, Text: "sealed in transit"}
			if err := NewSMTP(cfg).Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			mp.WaitMessage(t, "tls@example.com", "over "+tc.mode, 10*time.Second)
			cfg.TLSConfig = &tls.Config{ServerName: "127.0.0.1"} // the system's roots: the test certificate is not trusted
			if err := NewSMTP(cfg).Send(context.Background(), m); err == nil {
				t.Error("sent to a server whose certificate is not trusted")
			}
			cfg.TLS = TLSNone
			if err := NewSMTP(cfg).Send(context.Background(), m); err == nil {
				t.Error("sent in the clear to a server that requires TLS")
			}
		})
	}
}
