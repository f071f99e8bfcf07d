package mail

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// JobKind is the job kind of an outgoing e-mail.
const JobKind = "email.send"

// maxAttempts bounds the retries of one e-mail: with the worker's backoff (doubling up to an
// hour) 30 attempts span more than a day of SMTP outage.
const maxAttempts = 30

// Sender delivers a rendered message (SMTP in production).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox queues e-mail in the job table and delivers it from there.
type Outbox struct {
	Keys      *keyring.Keyring // seals payloads: they carry one-time links
	Templates *Templates
	Sender    Sender
}

type payload struct {
	To       string            `json:"to"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
}

// Enqueue queues the template rendered with data for to, inside tx: the mail leaves if and
// only if tx commits.
func (o *Outbox) Enqueue(ctx context.Context, tx *store.Tx, to, template string, data map[string]string) error {
	if !o.Templates.Has(template) {
		return fmt.Errorf("mail: no template %q", template)
	}
	b, err := json.Marshal(payload{To: to, Template: template, Data: data})
	if err != nil {
		return err
	}
	j, err := jobs.Sealed(o.Keys, store.Job{Kind: JobKind, Payload: b, MaxAttempts: maxAttempts})
	clear(b)
	if err != nil {
		return err
	}
	_, err = tx.EnqueueJob(ctx, j)
	return err
}

// Handle is the job handler of JobKind: it renders the message and sends it. The job id is the
// Message-ID, so a retry after a lost acknowledgement sends the same message again.
func (o *Outbox) Handle(ctx context.Context, j store.Job) error {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("mail: bad payload: %w", err))
	}
	m, err := o.Templates.Render(p.Template, p.To, p.Data)
	if err != nil {
		return jobs.Permanent(err)
	}
	m.ID = j.ID + "@coffer"
	if o.Sender == nil {
		return fmt.Errorf("mail: SMTP is not configured (COFFER_SMTP_HOST)")
	}
	return o.Sender.Send(ctx, m)
}

// Register makes o the handler of JobKind on w.
func (o *Outbox) Register(w *jobs.Worker) { w.Register(JobKind, o.Handle) }
