package testenv

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MailpitBinDir is where scripts/test-deps.sh installs mailpit when it is not on PATH.
func MailpitBinDir() string {
	if d := os.Getenv("COFFER_TEST_BIN_DIR"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "coffer-test", "bin")
}

func findMailpit() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	if p := filepath.Join(MailpitBinDir(), "mailpit"); isExec(p) {
		return p, nil
	}
	return "", &missingError{"no mailpit on PATH or in " + MailpitBinDir() + " (run scripts/test-deps.sh)"}
}

// Mailpit is a throwaway mailpit (an SMTP server that keeps what it receives, with an HTTP API
// to read it) for one test, on free loopback ports that stay the same across Stop and Start.
// It accepts any SMTP AUTH user name and password (on plain connections too, unless TLS is
// required).
type Mailpit struct {
	bin, dir         string
	smtpPort, uiPort int
	unregister       func()
	opt              MailpitOptions

	mu sync.Mutex
	p  *proc // nil while stopped
}

// MailpitOptions make mailpit's SMTP side speak TLS.
type MailpitOptions struct {
	// TLSCertFile and TLSKeyFile (PEM) enable STARTTLS.
	TLSCertFile, TLSKeyFile string
	// RequireSTARTTLS refuses mail until the client has switched to TLS.
	RequireSTARTTLS bool
	// ImplicitTLS makes the SMTP port speak TLS from the first byte (port 465 style).
	ImplicitTLS bool
}

// StartMailpit starts a mailpit for the test; it is stopped in t.Cleanup. Without mailpit
// installed the test skips (fails when CI=true).
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	return StartMailpitWith(t, MailpitOptions{})
}

// StartMailpitWith is StartMailpit with TLS options.
func StartMailpitWith(t testing.TB, opt MailpitOptions) *Mailpit {
	t.Helper()
	bin, err := findMailpit()
	if err != nil {
		fail(t, "", err)
	}
	dir, err := os.MkdirTemp("", "coffer-testenv-mailpit-")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mailpit{bin: bin, dir: dir, opt: opt}
	for attempt := 1; ; attempt++ {
		m.smtpPort, err = freePort()
		if err == nil {
			m.uiPort, err = freePort()
		}
		if err == nil {
			err = m.Start()
		}
		if err == nil {
			break
		}
		if attempt == 3 {
			os.RemoveAll(dir)
			t.Fatalf("testenv: %v", err)
		}
	}
	m.unregister = onStop(m.shutdown)
	t.Cleanup(func() { m.unregister(); m.shutdown() })
	return m
}

// SMTPHost and SMTPPort are where mailpit takes mail.
func (m *Mailpit) SMTPHost() string { return "127.0.0.1" }

// SMTPPort is mailpit's SMTP port.
func (m *Mailpit) SMTPPort() int { return m.smtpPort }

// APIURL is the base URL of mailpit's HTTP API.
func (m *Mailpit) APIURL() string { return "http://127.0.0.1:" + strconv.Itoa(m.uiPort) }

// Start starts mailpit (again) on its ports, keeping the messages it had, and returns once its
// SMTP port accepts connections.
func (m *Mailpit) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p != nil && !m.p.exited() {
		return nil
	}
	logPath := filepath.Join(m.dir, "mailpit.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(m.bin, "--smtp", "127.0.0.1:"+strconv.Itoa(m.smtpPort), "--listen", "127.0.0.1:"+strconv.Itoa(m.uiPort),
		"--database", filepath.Join(m.dir, "mailpit.db"), "--smtp-auth-accept-any", "--disable-version-check", "--quiet")
	if !m.opt.RequireSTARTTLS && !m.opt.ImplicitTLS {
		cmd.Args = append(cmd.Args, "--smtp-auth-allow-insecure") // AUTH over a plain connection (mailpit refuses it with required TLS)
	}
	if m.opt.TLSCertFile != "" {
		cmd.Args = append(cmd.Args, "--smtp-tls-cert", m.opt.TLSCertFile, "--smtp-tls-key", m.opt.TLSKeyFile)
	}
	if m.opt.RequireSTARTTLS {
		cmd.Args = append(cmd.Args, "--smtp-require-starttls")
	}
	if m.opt.ImplicitTLS {
		cmd.Args = append(cmd.Args, "--smtp-require-tls")
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = m.dir, log, log
	p, err := startProc(cmd, syscall.SIGTERM, m.dir)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c1, err1 := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.smtpPort), time.Second)
		c2, err2 := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.uiPort), time.Second)
		if err1 == nil && err2 == nil {
			c1.Close()
			c2.Close()
			break
		}
		for _, c := range []net.Conn{c1, c2} {
			if c != nil {
				c.Close()
			}
		}
		if p.exited() || time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("start mailpit on %d/%d: %v %v\n%s", m.smtpPort, m.uiPort, err1, err2, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.p = p
	return nil
}

// Stop stops mailpit: its SMTP port refuses connections until Start.
func (m *Mailpit) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p != nil {
		m.p.stop()
		m.p = nil
	}
}

func (m *Mailpit) shutdown() {
	m.Stop()
	os.RemoveAll(m.dir)
}

// MailpitMessage is a message as mailpit's API shows it.
type MailpitMessage struct {
	ID      string
	Subject string
	To      []struct{ Address string }
	Text    string
	HTML    string
}

// Messages returns the messages mailpit holds, newest first, with their bodies.
func (m *Mailpit) Messages() ([]MailpitMessage, error) {
	var list struct {
		Messages []MailpitMessage `json:"messages"`
	}
	if err := getJSON(m.APIURL()+"/api/v1/messages?limit=200", &list); err != nil {
		return nil, err
	}
	for i, msg := range list.Messages {
		if err := getJSON(m.APIURL()+"/api/v1/message/"+msg.ID, &list.Messages[i]); err != nil {
			return nil, err
		}
	}
	return list.Messages, nil
}

// WaitMessage waits up to timeout for a message to to whose subject contains subject (any when
// empty) and returns the newest such message.
func (m *Mailpit) WaitMessage(t testing.TB, to, subject string, timeout time.Duration) MailpitMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs, err := m.Messages()
		if err == nil {
			for _, msg := range msgs {
				if len(msg.To) > 0 && msg.To[0].Address == to && (subject == "" || contains(msg.Subject, subject)) {
					return msg
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s with subject %q arrived in %v (last error: %v, %d messages)", to, subject, timeout, err, len(msgs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
