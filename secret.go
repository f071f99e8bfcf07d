package coffer

import "time"

// SecretType tells a shared secret from a user's personal override.
type SecretType string

// Secret types.
const (
	SecretShared   SecretType = "shared"
	SecretPersonal SecretType = "personal"
)

// Limits on secret contents.
const (
	MaxSecretKeyLen      = 256
	MaxSecretValueBytes  = 256 << 10
	MaxSecretCommentLen  = 10 << 10
	MaxBatchSize         = 1000
	MaxMetadataEntries   = 64
	MaxReferenceDepth    = 10
	MaxImportDepth       = 10
	MaxFolderNameLen     = 64
	MaxPathDepth         = 32
	MaxSlugLen           = 64
	MaxNameLen           = 128
	MaxReminderNoteLen   = 1024
	MaxTagsPerSecret     = 64
	MaxTrustedIPsEntries = 64
)

// Secret is one key of a folder with its current value. Value and Comment are plaintext in
// memory only; storage holds them sealed.
type Secret struct {
	ID            string
	ProjectID     string
	EnvironmentID string
	Environment   string // slug, filled on reads
	FolderID      string
	Path          string // folder path, filled on reads
	Type          SecretType
	OwnerID       string // user id of a personal secret; empty for shared ones
	Key           string
	Value         Plaintext
	Comment       Plaintext
	Version       int

	ReminderNote          string
	ReminderRepeatDays    int
	SkipMultilineEncoding bool
	Metadata              []SecretMetadata
	Tags                  []Tag

	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretMetadata is a key/value label of a secret, stored in the clear.
type SecretMetadata struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SecretVersion is one kept state of a secret. Every write adds one; none is ever rewritten.
type SecretVersion struct {
	ID                    string
	SecretID              string
	Version               int
	Key                   string
	Value                 Plaintext
	Comment               Plaintext
	SkipMultilineEncoding bool
	ActorKind             ActorKind
	ActorID               string
	CreatedAt             time.Time
}
