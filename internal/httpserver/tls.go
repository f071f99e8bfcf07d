package httpserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultCertCheckInterval is how often, at most, a handshake looks at the certificate files.
const DefaultCertCheckInterval = time.Second

// CertReloader serves a certificate and key pair from PEM files and reloads it when either file
// changes, without a restart. A handshake looks at the files (two stats) at most once per
// Interval; a changed pair that does not load is logged and the previous pair kept.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	// Interval is the least time between two looks at the files; DefaultCertCheckInterval
	// when zero. Set it before the first handshake.
	Interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    fileStamp // stamp of the files at the last load attempt
	checked time.Time
}

// fileStamp identifies a version of the two files: size and modification time of each.
type fileStamp struct {
	certSize, keySize int64
	certMod, keyMod   int64 // UnixNano
}

// NewCertReloader loads the pair once; it fails when the files cannot be read or do not match.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	stamp, err := r.stamp()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.seen, r.checked = &cert, stamp, r.now()
	return r, nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultCertCheckInterval
	}
	if now := r.now(); now.Sub(r.checked) >= interval {
		r.checked = now
		r.reloadLocked()
	}
	return r.cert, nil
}

// reloadLocked loads the pair again if the files changed since the last attempt.
func (r *CertReloader) reloadLocked() {
	stamp, err := r.stamp()
	if err != nil {
		if stamp != r.seen {
			r.log.Error("TLS certificate files unreadable; keeping the previous certificate", "err", err)
			r.seen = stamp
		}
		return
	}
	if stamp == r.seen {
		return
	}
	r.seen = stamp // a bad pair is reported once, and tried again when a file changes again
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Error("TLS certificate files changed but do not load; keeping the previous certificate",
			"cert_file", r.certFile, "key_file", r.keyFile, "err", err)
		return
	}
	r.cert = &cert
	attrs := []any{"cert_file", r.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "not_after", cert.Leaf.NotAfter)
	}
	r.log.Info("TLS certificate reloaded", attrs...)
}

func (r *CertReloader) stamp() (fileStamp, error) {
	c, cerr := os.Stat(r.certFile)
	k, kerr := os.Stat(r.keyFile)
	if err := errors.Join(cerr, kerr); err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certSize: c.Size(), keySize: k.Size(), certMod: c.ModTime().UnixNano(), keyMod: k.ModTime().UnixNano()}, nil
}

// TLSConfig returns the server TLS configuration of Coffer: TLS 1.2 or later, the reloader's
// certificate.
func TLSConfig(r *CertReloader) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}
