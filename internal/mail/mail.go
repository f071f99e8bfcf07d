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
	"fmt"
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
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(cmpDuration(s.cfg.Timeout, 30*time.Second))}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
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
