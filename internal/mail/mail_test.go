package mail

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// templateData is what the services pass to each template.
var templateData = map[string]map[string]string{
	TemplateInvitation:    {"OrgName": "Acme <&>", "InviterEmail": "admin@example.com", "Role": "member", "Link": "https://coffer.example.com/invitations/accept?token=abc", "ExpiresIn": "7 days"},
	TemplatePasswordReset: {"Email": "a@example.com", "Link": "https://coffer.example.com/reset-password?token=abc", "ExpiresIn": "1 hour"},
	TemplateNewDevice:     {"Email": "a@example.com", "IP": "203.0.113.9", "UserAgent": "curl/8", "Time": "now", "SessionsURL": "https://coffer.example.com/settings/sessions"},
}

func TestTemplates(t *testing.T) {
	tpl, err := ParseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range templateData {
		m, err := tpl.Render(name, "a@example.com", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Subject == "" || strings.Contains(m.Subject, "\n") || m.Text == "" || !strings.Contains(m.HTML, "<html>") {
			t.Errorf("%s: %+v", name, m)
		}
		for _, v := range data {
			if !strings.Contains(m.Text+m.Subject, v) {
				t.Errorf("%s: the text lacks %q", name, v)
			}
		}
		if name == TemplateInvitation && (strings.Contains(m.HTML, "Acme <&>") || !strings.Contains(m.HTML, "Acme &lt;&amp;&gt;")) {
			t.Errorf("the HTML does not escape its data:\n%s", m.HTML)
		}
		// A missing key is an error, not "<no value>" in a mail.
		delete(data, "Link")
		delete(data, "IP")
		if _, err := tpl.Render(name, "a@example.com", data); err == nil {
			t.Errorf("%s rendered without all its data", name)
		}
	}
	if _, err := tpl.Render("nope", "a@example.com", nil); err == nil {
		t.Error("an unknown template rendered")
	}
}

// TestSMTPSend sends through a real SMTP server with AUTH, and fails cleanly when it is down.
func TestSMTPSend(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := NewSMTP(Config{Host: mp.SMTPHost(), Port: mp.SMTPPort(), Username: "coffer", Password: "smtp-pass", From: "Coffer <coffer@example.com>", TLS: TLSNone, Timeout: 5 * time.Second})
	m := Message{ID: "test-1@coffer", To: "bob@example.com", Subject: "Hello", Text: "plain body", HTML: "<p>html body</p>"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := mp.WaitMessage(t, "bob@example.com", "Hello", 10*time.Second)
	if !strings.Contains(got.Text, "plain body") || !strings.Contains(got.HTML, "html body") {
		t.Errorf("received %+v", got)
	}
	mp.Stop()
	err := s.Send(context.Background(), m)
	if err == nil || strings.Contains(err.Error(), "smtp-pass") || strings.Contains(err.Error(), "plain body") {
		t.Errorf("send to a stopped server: %v", err)
	}
	// STARTTLS is required by default: a server without it is refused, nothing is sent in the clear.
	if err := mp.Start(); err != nil {
		t.Fatal(err)
	}
	strict := NewSMTP(Config{Host: mp.SMTPHost(), Port: mp.SMTPPort(), From: "coffer@example.com", TLS: TLSStartTLS, Timeout: 5 * time.Second})
	if err := strict.Send(context.Background(), m); err == nil {
		t.Error("starttls mode sent to a server without STARTTLS")
	}
}
