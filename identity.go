package coffer

import "time"

// Roles a user or identity can hold in an organization or a project. Organization admins are
// admins of every project of the organization.
const (
	RoleOwner    = "owner" // organization only
	RoleAdmin    = "admin"
	RoleMember   = "member"
	RoleViewer   = "viewer" // project only
	RoleNoAccess = "no-access"
)

// User is a person who signs in with e-mail and password.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Identity is a machine identity (an app, a CI job, a cluster) of an organization.
type Identity struct {
	ID          string
	OrgID       string
	Name        string
	OrgRole     string
	AuthMethods []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Auth methods of an identity.
const (
	AuthUniversal = "universal-auth"
	AuthToken     = "token-auth"
	AuthPassword  = "password" // users
)

// UniversalAuth is an identity's client-id/client-secret configuration. TTLs are in seconds; a
// zero TTL or limit means none.
type UniversalAuth struct {
	ID                      string
	IdentityID              string
	ClientID                string
	AccessTokenTTL          int
	AccessTokenMaxTTL       int
	AccessTokenNumUsesLimit int
	ClientSecretTrustedIPs  []TrustedIP
	AccessTokenTrustedIPs   []TrustedIP
	// TrustedVPCEndpointIDs limits login and every access token of the identity to requests
	// that came through one of these AWS VPC endpoints (vpce-…); empty means any origin.
	TrustedVPCEndpointIDs []string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// TrustedIP is one entry of a trusted-IP list: an address or a CIDR block.
type TrustedIP struct {
	IPAddress string `json:"ipAddress"`
	Type      string `json:"type"` // ipv4 or ipv6
	Prefix    int    `json:"prefix"`
}

// ClientSecret is a universal-auth credential. Only its hash is stored; the secret itself is
// shown once, when created.
type ClientSecret struct {
	ID           string
	IdentityID   string
	Description  string
	Prefix       string
	Hash         []byte
	TTL          int
	NumUsesLimit int
	NumUses      int
	Revoked      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Expired reports whether the client secret's TTL has passed at now.
func (c *ClientSecret) Expired(now time.Time) bool {
	return c.TTL > 0 && !now.Before(c.CreatedAt.Add(time.Duration(c.TTL)*time.Second))
}

// AccessToken is the server's record of an issued bearer token: the token string itself is
// signed and carries only this record's ID.
type AccessToken struct {
	ID             string
	ActorKind      ActorKind
	ActorID        string
	OrgID          string
	AuthMethod     string
	ClientSecretID string
	TTL            int // seconds; 0 = no expiry
	MaxTTL         int // seconds; 0 = no limit on renewals
	NumUsesLimit   int
	NumUses        int
	Revoked        bool
	CreatedAt      time.Time
	RenewedAt      time.Time
	// IP and UserAgent are where a user's session (a user token) was signed in from.
	IP        string
	UserAgent string
	// TrustedIPs is the identity's access-token trusted-IP list, read with the token.
	TrustedIPs []TrustedIP
	// TrustedVPCEndpointIDs is the identity's trusted VPC endpoint list, read with the token.
	TrustedVPCEndpointIDs []string
}

// ExpiresAt returns when the token stops being valid (zero when never).
func (t *AccessToken) ExpiresAt() time.Time {
	if t.TTL <= 0 {
		return time.Time{}
	}
	exp := t.RenewedAt.Add(time.Duration(t.TTL) * time.Second)
	if t.MaxTTL > 0 {
		if limit := t.CreatedAt.Add(time.Duration(t.MaxTTL) * time.Second); exp.After(limit) {
			exp = limit
		}
	}
	return exp
}

// Membership gives a user or identity a role in a project or organization.
type Membership struct {
	ID        string
	ScopeID   string // project or organization id
	ActorKind ActorKind
	ActorID   string
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
}
