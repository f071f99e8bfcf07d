package coffer

import "time"

// Audit actor types: who did it.
const (
	AuditActorUser      = "user"
	AuditActorIdentity  = "identity"
	AuditActorAnonymous = "anonymous"
	AuditActorSystem    = "system" // Coffer's own background work (a key re-seal job)
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure" // e.g. a wrong password
	OutcomeDenied  = "denied"  // authenticated, but not allowed
)

// Audit actions: what was done. Names are subject.verb, in lower case.
const (
	ActionSecretRead           = "secret.read"
	ActionSecretsList          = "secrets.list"
	ActionSecretCreate         = "secret.create"
	ActionSecretUpdate         = "secret.update"
	ActionSecretDelete         = "secret.delete"
	ActionSecretRollback       = "secret.rollback"
	ActionFolderCreate         = "folder.create"
	ActionFolderUpdate         = "folder.update"
	ActionFolderDelete         = "folder.delete"
	ActionImportCreate         = "secret_import.create"
	ActionImportUpdate         = "secret_import.update"
	ActionImportDelete         = "secret_import.delete"
	ActionTagCreate            = "tag.create"
	ActionTagUpdate            = "tag.update"
	ActionTagDelete            = "tag.delete"
	ActionProjectCreate        = "project.create"
	ActionProjectUpdate        = "project.update"
	ActionProjectDelete        = "project.delete"
	ActionProjectKeyRotate     = "project.key_rotate"
	ActionProjectKeyRetire     = "project.key_retire" // older keys destroyed after the re-seal
	ActionEnvironmentCreate    = "environment.create"
	ActionEnvironmentUpdate    = "environment.update"
	ActionEnvironmentDelete    = "environment.delete"
	ActionMemberAdd            = "member.add"
	ActionMemberRemove         = "member.remove"
	ActionIdentityCreate       = "identity.create"
	ActionIdentityDelete       = "identity.delete"
	ActionUniversalAuthAttach  = "identity.universal_auth.attach"
	ActionUniversalAuthUpdate  = "identity.universal_auth.update"
	ActionClientSecretCreate   = "identity.client_secret.create"
	ActionClientSecretRevoke   = "identity.client_secret.revoke"
	ActionIdentityLogin        = "identity.login"
	ActionIdentityLoginFailed  = "identity.login_failed"
	ActionIdentityLoginLimited = "identity.login_rate_limited" // refused by the brute-force limits
	ActionUserLogin            = "user.login"
	ActionUserLoginFailed      = "user.login_failed"
	ActionUserLoginLimited     = "user.login_rate_limited" // refused by the brute-force limits
	ActionTokenRenew           = "token.renew"
	ActionTokenRevoke          = "token.revoke"
	ActionBootstrap            = "instance.bootstrap"
	ActionPermissionDenied     = "permission.denied"
	ActionLogout               = "user.logout"
	ActionSessionRevoke        = "user.session_revoke"
	ActionPasswordChange       = "user.password_change"
	ActionPasswordResetRequest = "user.password_reset_request"
	ActionPasswordReset        = "user.password_reset"
	ActionMFAEnroll            = "user.mfa_enroll"
	ActionMFAEnable            = "user.mfa_enable"
	ActionMFADisable           = "user.mfa_disable"
	ActionUserSignup           = "user.signup"
	ActionMemberInvite         = "member.invite"
	ActionInvitationRevoke     = "member.invitation_revoke"
	ActionInvitationAccept     = "member.invitation_accept"
	ActionMemberUpdate         = "member.update"
	ActionOrgSettingsUpdate    = "organization.settings_update"
)

// AuditEvent is one entry of the audit log. It names what was touched (project, environment,
// path, keys) and never holds a secret value, token or password, in Metadata neither.
type AuditEvent struct {
	ID          string
	Seq         int64 // position in the chain, from 1; set when appended
	Time        time.Time
	ActorType   string // AuditActorUser, AuditActorIdentity or AuditActorAnonymous
	ActorID     string
	ActorName   string // a user's e-mail or an identity's name
	IP          string
	UserAgent   string
	Action      string
	OrgID       string
	ProjectID   string
	Environment string
	SecretPath  string
	SecretKeys  []string
	Outcome     string
	RequestID   string
	Metadata    map[string]any // small facts (ids, names, counts, roles); never a value
	Node        string         // the node that appended it
	PrevHash    string         // hex SHA-256 of the previous event ("" for the first)
	Hash        string         // hex SHA-256 of this event's canonical encoding and PrevHash
}
