package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Project key states, as KeyStatus.Keys reports them.
const (
	KeyCurrent   = "current"   // seals every write
	KeyResealing = "resealing" // an older key that still opens data not yet re-encrypted
	KeyRetired   = "retired"   // destroyed: its wrapped bytes are erased
)

// ProjectKey is one term of a project's data key. It never carries key material.
type ProjectKey struct {
	Term      uint32     `json:"term"`
	CreatedAt time.Time  `json:"createdAt"`
	RetiredAt *time.Time `json:"retiredAt"` // nil until the key is destroyed
	Status    string     `json:"status"`    // KeyCurrent, KeyResealing or KeyRetired
}

// KeyStatus is the state of a project's data keys.
type KeyStatus struct {
	ProjectID   string `json:"projectId"`
	CurrentTerm uint32 `json:"currentTerm"`
	// Resealing reports that a rotation's re-encryption is still under way: an older key is
	// still live. It turns false once every older key is retired.
	Resealing bool `json:"resealing"`
	// PendingRows counts the stored rows still sealed with an older key (0 unless Resealing).
	PendingRows int          `json:"pendingRows"`
	Keys        []ProjectKey `json:"keys"`
	// Job is the job finishing the rotation while Resealing; nil when none is queued.
	Job *KeyJob `json:"job,omitempty"`
}

// ProjectKeys reads the state of a project's data keys (GET /api/v1/workspace/{id}/keys).
func (c *Client) ProjectKeys(ctx context.Context, projectID string) (*KeyStatus, error) {
	var st KeyStatus
	return &st, c.Do(ctx, http.MethodGet, "/api/v1/workspace/"+url.PathEscape(projectID)+"/keys", nil, nil, &st)
}

// RotateProjectKey gives a project a new data key, which seals every write from the moment the
// call answers; the server re-encrypts the project's data in the background, then destroys the
// older key (follow it with ProjectKeys). Project admins may. While a previous rotation is still
// re-encrypting the server refuses with a 400 (Infisical's status for a conflict).
func (c *Client) RotateProjectKey(ctx context.Context, projectID string) (*KeyStatus, error) {
	var st KeyStatus
	return &st, c.Do(ctx, http.MethodPost, "/api/v1/workspace/"+url.PathEscape(projectID)+"/keys/rotate", nil, nil, &st)
}

// KeyJob is the background job that finishes a project key rotation.
type KeyJob struct {
	Kind        string    `json:"kind"`   // "project.key_reseal" (re-encrypting) or "project.key_retire" (destroying the older key at RunAt)
	Status      string    `json:"status"` // "pending", "running" or "dead" (it gave up: rotating again restarts it)
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"maxAttempts"`
	LastError   string    `json:"lastError"` // why the last attempt failed; names rows, never values
	RunAt       time.Time `json:"runAt"`     // when it runs next
}
