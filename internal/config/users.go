package config

import (
	"errors"
	"fmt"
	"net/mail"
)

// Sign-up modes.
const (
	SignupInvite = "invite" // after the first admin, only invited people get an account
	SignupOpen   = "open"   // anyone may create an account and an organization
)

// usersOptions are the settings of users, sign-in and e-mail.
func usersOptions() []Option {
	return []Option{
		stringOption("COFFER_SIGNUP", "signup", SignupInvite,
			"Who may create an account: invite (only people invited to an organization, after the first admin) or open (anyone, with a new organization of their own).",
			func(c *Config) *string { return &c.Signup }).withCheck(checkSignup),
		int64Option("COFFER_ARGON2_MEMORY", "argon2-memory", "19456",
			"Memory of an argon2id password hash, in KiB (at least 8192). Changing the argon2 settings rehashes each password at its next sign-in; old hashes keep working.",
			func(c *Config) *int64 { return &c.Argon2Memory }).withCheck(checkArgon2),
		int64Option("COFFER_ARGON2_ITERATIONS", "argon2-iterations", "2",
			"Passes of an argon2id password hash (1 to 10).",
			func(c *Config) *int64 { return &c.Argon2Iterations }),
		int64Option("COFFER_ARGON2_PARALLELISM", "argon2-parallelism", "1",
			"Lanes of an argon2id password hash (1 to 16).",
			func(c *Config) *int64 { return &c.Argon2Parallelism }),
		stringOption("COFFER_SMTP_HOST", "smtp-host", "",
			"SMTP server for e-mail (invitations, password resets, new-device alerts), e.g. email-smtp.eu-west-1.amazonaws.com; empty means no e-mail (mail stays queued).",
			func(c *Config) *string { return &c.SMTPHost }).withCheck(checkSMTP),
		int64Option("COFFER_SMTP_PORT", "smtp-port", "587",
			"Port of the SMTP server: 587 for STARTTLS, 465 for implicit TLS.",
			func(c *Config) *int64 { return &c.SMTPPort }),
		stringOption("COFFER_SMTP_USERNAME", "smtp-username", "",
			"SMTP AUTH user name (for SES: the SMTP credentials' user name); empty means no AUTH.",
			func(c *Config) *string { return &c.SMTPUsername }),
		stringOption("COFFER_SMTP_PASSWORD", "smtp-password-file", "",
			"SMTP AUTH password.",
			func(c *Config) *string { return &c.SMTPPassword }).secret(),
		stringOption("COFFER_SMTP_FROM", "smtp-from", "",
			"Sender of Coffer's e-mail, e.g. \"Coffer <coffer@example.com>\" (for SES: a verified identity). Required with COFFER_SMTP_HOST.",
			func(c *Config) *string { return &c.SMTPFrom }),
		stringOption("COFFER_SMTP_TLS", "smtp-tls", "starttls",
			"TLS to the SMTP server: starttls (must succeed), implicit (TLS from the first byte, port 465) or none (only for a relay on a trusted network).",
			func(c *Config) *string { return &c.SMTPTLS }),
	}
}

func checkSignup(c *Config) error {
	if c.Signup != "" && c.Signup != SignupInvite && c.Signup != SignupOpen {
		return fmt.Errorf("COFFER_SIGNUP: %q is not invite or open", c.Signup)
	}
	return nil
}

func checkArgon2(c *Config) error {
	// Zero values (a Config built in code) mean the defaults.
	var errs []error
	if c.Argon2Memory != 0 && c.Argon2Memory < 8192 || c.Argon2Memory > 4<<20 {
		errs = append(errs, errors.New("COFFER_ARGON2_MEMORY: must be between 8192 and 4194304 KiB"))
	}
	if c.Argon2Iterations < 0 || c.Argon2Iterations > 10 {
		errs = append(errs, errors.New("COFFER_ARGON2_ITERATIONS: must be between 1 and 10"))
	}
	if c.Argon2Parallelism < 0 || c.Argon2Parallelism > 16 {
		errs = append(errs, errors.New("COFFER_ARGON2_PARALLELISM: must be between 1 and 16"))
	}
	return errors.Join(errs...)
}

func checkSMTP(c *Config) error {
	var errs []error
	switch c.SMTPTLS {
	case "", "starttls", "implicit", "none":
	default:
		errs = append(errs, fmt.Errorf("COFFER_SMTP_TLS: %q is not starttls, implicit or none", c.SMTPTLS))
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		errs = append(errs, errors.New("COFFER_SMTP_PORT: must be between 1 and 65535"))
	}
	if c.SMTPHost != "" {
		if c.SMTPFrom == "" {
			errs = append(errs, errors.New("COFFER_SMTP_FROM: required with COFFER_SMTP_HOST"))
		} else if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			errs = append(errs, fmt.Errorf("COFFER_SMTP_FROM: %q is not an e-mail address", c.SMTPFrom))
		}
	}
	return errors.Join(errs...)
}
