// Package mail sends Coffer's e-mail: templates (HTML and text, embedded) rendered into
// messages, sent over SMTP with STARTTLS, implicit TLS or none, with optional AUTH (Amazon SES's
// SMTP interface is the production target), through a durable outbox: every message is a job of
// kind "email.send" in the job table (internal/jobs), enqueued in the transaction of the change
// that sends it, its payload sealed because it carries links with one-time tokens, and retried
// with backoff while the SMTP server is down.
//
// mail never logs a message body, a link or the SMTP password.
package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of the SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed (port 587)
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a relay on localhost or in tests
)

// Config is how to reach the SMTP server.
type Config struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	From     string // e.g. "Coffer <coffer@example.com>"
	TLS      string // TLSStartTLS, TLSImplicit or TLSNone
	Timeout  time.Duration
	// TLSConfig overrides the TLS settings (e.g. a private CA's roots); nil: the system's roots
	// and Host as the server name.
	TLSConfig *tls.Config
}

// Configured reports whether e-mail can be sent.
func (c Config) Configured() bool { return c.Host != "" }

// Message is one rendered e-mail.
type Message struct {
	ID      string // Message-ID, without brackets; stable across retries
	To      string
	Subject string
	Text    string
	HTML    string
}

// SMTP sends messages to an SMTP server, one connection per message.
type SMTP struct {
	cfg Config
}

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg} }

// Send delivers one message. Errors name the server, never the message or the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	timeout := cmpDuration(s.cfg.Timeout, 30*time.Second)
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	// One deadline bounds the whole SMTP conversation: a server that stalls mid-dialog fails
	// the attempt (and the job retries) instead of holding a worker forever.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(timeout)) //nolint:errcheck // a fresh TCP connection
		if s.cfg.TLS != TLSImplicit {
			return c, nil
		}
		tc := tls.Client(c, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(timeout), gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(tlsConfig)}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)) // TLS already, from the first byte
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", s.cfg.Host, err)
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("COFFER_SMTP_FROM: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: not a valid address")
	}
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID)
	}
	msg.SetDate()
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send through %s:%d: %s", s.cfg.Host, s.cfg.Port, scrub(err.Error(), s.cfg.Password))
	}
	return nil
}

// scrub removes the password from a library error, should it ever quote it.
func scrub(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "[REDACTED]")
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
