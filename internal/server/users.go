package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/api"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/mail"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/store"
)

// userParts are users' sign-in settings, the members service and the e-mail outbox.
type userParts struct {
	members  *members.Service
	outbox   *mail.Outbox
	sessions httpserver.Sessions
	mail     bool // SMTP configured
}

// newUsers configures users' sign-in on ids and makes the members service and the outbox.
func newUsers(cfg *config.Config, db *store.DB, keys *keyring.Keyring, az *authz.Authorizer, ids *identity.Service, now func() time.Time) (*userParts, error) {
	tpl, err := mail.ParseTemplates()
	if err != nil {
		return nil, err
	}
	outbox := &mail.Outbox{Keys: keys, Templates: tpl}
	if cfg.SMTPHost != "" {
		port := cfg.SMTPPort
		if port == 0 {
			port = 587
		}
		outbox.Sender = mail.NewSMTP(mail.Config{Host: cfg.SMTPHost, Port: int(port), Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS})
	}
	public := cfg.PublicURL()
	pw := identity.DefaultPasswordParams
	if cfg.Argon2Memory > 0 {
		pw.MemoryKiB = uint32(cfg.Argon2Memory)
	}
	if cfg.Argon2Iterations > 0 {
		pw.Iterations = uint32(cfg.Argon2Iterations)
	}
	if cfg.Argon2Parallelism > 0 {
		pw.Parallelism = uint8(cfg.Argon2Parallelism)
	}
	// Mail is queued even without SMTP (it waits in the job table until COFFER_SMTP_HOST is
	// set), except invitations, whose link is then given to the inviting admin instead.
	ids.ConfigureUsers(identity.Users{Password: pw, Keys: keys, Mail: outbox, PublicURL: public})
	mopt := members.Options{OpenSignup: cfg.Signup == config.SignupOpen, PublicURL: public}
	if outbox.Sender != nil {
		mopt.Mail = outbox
	}
	if len(cfg.AuthSecret) == 0 {
		return nil, fmt.Errorf("no auth secret")
	}
	m := hmac.New(sha256.New, []byte(cfg.AuthSecret))
	m.Write([]byte("coffer csrf key"))
	return &userParts{
		members:  members.New(db, az, ids, mopt, now),
		outbox:   outbox,
		sessions: httpserver.Sessions{Key: m.Sum(nil), Secure: strings.HasPrefix(public, "https://")},
		mail:     outbox.Sender != nil,
	}, nil
}

// attach gives the API the members service and the session cookie settings.
func (u *userParts) attach(a *api.API) {
	a.Members, a.Sessions = u.members, u.sessions
	a.Status.EmailConfigured = u.mail
}

// registerJobs makes w deliver e-mail. Call it before w runs.
func (u *userParts) registerJobs(w *jobs.Worker) { u.outbox.Register(w) }
