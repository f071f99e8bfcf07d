// Package identity authenticates machine identities and users and manages their credentials:
// universal-auth client ids and secrets, and the access tokens issued for them. Client secrets
// are stored as SHA-256 hashes and compared in constant time; tokens are signed and carry only
// a record id. No credential ever reaches a log line or an error message.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/ratelimit"
	"github.com/cofferhq/coffer/internal/store"
)

// Defaults of a universal-auth configuration (Infisical's).
const (
	DefaultAccessTokenTTL = 2592000 // 30 days, in seconds
	MaxTTLSeconds         = 315360000
)

// Service manages identities and tokens.
type Service struct {
	db     *store.DB
	authz  *authz.Authorizer
	signer signer
	now    func() time.Time
	cache  *cache.Cache // token records; nil: none
	// Audit records every change, sign-in and failed sign-in.
	Audit *audit.Log
	users Users // user sign-in settings (see ConfigureUsers)
	// userLogins and machineLogins limit sign-in attempts (see LimitLogins); nil: no limit.
	userLogins, machineLogins *ratelimit.Login
}

// UseCache makes Authenticate keep token records in c (see internal/cache). Call it before use.
func (s *Service) UseCache(c *cache.Cache) { s.cache = c }

// New returns a Service that signs tokens with authSecret.
func New(db *store.DB, az *authz.Authorizer, authSecret []byte, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, authz: az, signer: signer{key: authSecret}, now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

// Issued is an access token handed to a client, with the record it refers to.
type Issued struct {
	Token  string
	Record *coffer.AccessToken
}

// ExpiresIn returns the seconds left until the token expires (0: never).
func (i *Issued) ExpiresIn(now time.Time) int {
	exp := i.Record.ExpiresAt()
	if exp.IsZero() {
		return 0
	}
	return max(0, int(exp.Sub(now).Round(time.Second)/time.Second))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

var errBadCredentials = coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid credentials")

// Login exchanges a universal-auth client id and secret for an access token. ip is the client
// address; the VPC endpoint the request came through is read from ctx
// (coffer.VPCEndpointIDFromContext). Both must be trusted by the identity. Too many attempts
// from ip, or on a client id (existing or not) without success, get a *ratelimit.Refusal
// (ERATELIMIT) before the secret is compared. An attempt from an untrusted address or VPC
// endpoint is not counted against the client id: no guess was checked, and outsiders cannot
// lock an identity out.
func (s *Service) Login(ctx context.Context, clientID, clientSecret string, ip netip.Addr) (_ *Issued, err error) {
	defer func() { s.auditLoginFailure(ctx, clientID, err) }()
	if clientID == "" || clientSecret == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "clientId and clientSecret are required")
	}
	// Machines count failures only (ratelimit.Login.Failed): a fleet of pods of one identity
	// behind one address signs in in bursts, and its secret costs a hash to compare, not argon2.
	if err := s.machineLogins.CheckIP(ctx, ip); err != nil {
		return nil, err
	}
	ua, err := s.db.FindUniversalAuthByClientID(ctx, clientID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		if err := s.machineLogins.Locked(ctx, clientID); err != nil {
			return nil, err
		}
		subtle.ConstantTimeCompare(hashSecret(clientSecret), hashSecret(clientID)) // same work as a miss below
		s.machineLogins.Failed(ctx, ip, clientID)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if !IPTrusted(ua.ClientSecretTrustedIPs, ip) {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "Failed to authenticate: the client IP is not trusted by this identity")
	}
	if !coffer.VPCEndpointTrusted(ua.TrustedVPCEndpointIDs, coffer.VPCEndpointIDFromContext(ctx)) {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "Failed to authenticate: the request did not come through a VPC endpoint trusted by this identity")
	}
	if err := s.machineLogins.Locked(ctx, clientID); err != nil {
		return nil, err
	}
	secrets, err := s.db.ListClientSecrets(ctx, ua.IdentityID, false)
	if err != nil {
		return nil, err
	}
	want := hashSecret(clientSecret)
	var match *coffer.ClientSecret
	for _, cs := range secrets { // compare against every one: time does not tell which matched
		if subtle.ConstantTimeCompare(cs.Hash, want) == 1 {
			match = cs
		}
	}
	now := s.now()
	if match == nil || match.Expired(now) {
		s.machineLogins.Failed(ctx, ip, clientID)
		return nil, errBadCredentials
	}
	s.machineLogins.Succeeded(ctx, clientID) // the secret is right, whatever follows
	ident, err := s.db.FindIdentity(ctx, ua.IdentityID)
	if err != nil {
		return nil, err
	}
	var issued *Issued
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.UseClientSecret(ctx, match.ID)
		if err != nil {
			return err
		} else if !ok {
			return coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid credentials: the client secret has reached its use limit")
		}
		issued, err = s.issue(ctx, tx, &coffer.AccessToken{
			ActorKind: coffer.ActorIdentity, ActorID: ident.ID, OrgID: ident.OrgID, AuthMethod: coffer.AuthUniversal,
			ClientSecretID: match.ID, TTL: ua.AccessTokenTTL, MaxTTL: ua.AccessTokenMaxTTL, NumUsesLimit: ua.AccessTokenNumUsesLimit,
			TrustedIPs: ua.AccessTokenTrustedIPs, TrustedVPCEndpointIDs: ua.TrustedVPCEndpointIDs,
		})
		if err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionIdentityLogin, ActorType: coffer.AuditActorIdentity,
			ActorID: ident.ID, ActorName: ident.Name, OrgID: ident.OrgID,
			Metadata: map[string]any{"authMethod": coffer.AuthUniversal, "clientSecretId": match.ID, "tokenId": issued.Record.ID}})
	})
	return issued, err
}

// issue stores a token record and signs its token.
func (s *Service) issue(ctx context.Context, tx *store.Tx, rec *coffer.AccessToken) (*Issued, error) {
	now := s.now()
	rec.ID, rec.CreatedAt, rec.RenewedAt = store.NewID(), now, now
	if err := tx.CreateAccessToken(ctx, rec); err != nil {
		return nil, err
	}
	tok, err := s.signer.sign(rec.ID, string(rec.ActorKind), rec.ActorID)
	if err != nil {
		return nil, err
	}
	return &Issued{Token: tok, Record: rec}, nil
}

// lookup checks a token's signature and returns its record if it is still valid at now.
func (s *Service) lookup(ctx context.Context, token string) (*coffer.AccessToken, error) {
	id, err := s.signer.parse(token)
	if err != nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
	}
	rec, err := s.db.FindAccessToken(ctx, id)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
	} else if err != nil {
		return nil, err
	}
	if err := s.usable(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// usable returns why a token record may not be used now, or nil.
func (s *Service) usable(rec *coffer.AccessToken) error {
	if rec.AuthMethod == AuthMFAEnrollment {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "This token only allows enrolling two-factor authentication")
	}
	if rec.Revoked {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "Access token has been revoked")
	}
	if exp := rec.ExpiresAt(); !exp.IsZero() && !s.now().Before(exp) {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "Access token has expired")
	}
	return nil
}

// lookupCached is lookup through the cache: the record it returns is shared and must not be
// modified.
func (s *Service) lookupCached(ctx context.Context, token string) (*coffer.AccessToken, error) {
	if !s.cache.Enabled() {
		return s.lookup(ctx, token)
	}
	v, err := s.cache.Token(ctx, sha256.Sum256([]byte(token)), func(ctx context.Context) (any, string, int64, error) {
		id, err := s.signer.parse(token)
		if err != nil {
			return nil, "", 0, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
		}
		rec, rev, err := s.db.FindAccessTokenRevision(ctx, id)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, "", 0, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
		} else if err != nil {
			return nil, "", 0, err
		}
		return rec, rec.OrgID, rev, nil
	})
	if err != nil {
		return nil, err
	}
	rec := v.(*coffer.AccessToken)
	if err := s.usable(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// Authenticate checks a bearer token presented from ip and returns the actor it stands for.
// The VPC endpoint the request came through is read from ctx (coffer.VPCEndpointIDFromContext),
// as in Login. A token with a use limit is counted once per call.
func (s *Service) Authenticate(ctx context.Context, token string, ip netip.Addr) (*coffer.Actor, error) {
	rec, err := s.lookupCached(ctx, token)
	if err != nil {
		return nil, err
	}
	if rec.AuthMethod == coffer.AuthUniversal && !IPTrusted(rec.TrustedIPs, ip) {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "The client IP is not trusted to use this access token")
	}
	if rec.AuthMethod == coffer.AuthUniversal && !coffer.VPCEndpointTrusted(rec.TrustedVPCEndpointIDs, coffer.VPCEndpointIDFromContext(ctx)) {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "The request did not come through a VPC endpoint trusted to use this access token")
	}
	if rec.NumUsesLimit > 0 {
		var ok bool
		err := s.db.InTx(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.UseAccessToken(ctx, rec.ID)
			return err
		})
		if err != nil {
			return nil, err
		} else if !ok {
			return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Access token has reached its use limit")
		}
	}
	return &coffer.Actor{Kind: rec.ActorKind, ID: rec.ActorID, OrgID: rec.OrgID, TokenID: rec.ID, IP: ip}, nil
}

// Renew restarts a token's TTL, within its max TTL.
func (s *Service) Renew(ctx context.Context, token string) (*Issued, error) {
	if token == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "accessToken is required")
	}
	rec, err := s.lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	if rec.TTL <= 0 {
		return nil, coffer.Errorf(coffer.EINVALID, "This access token does not expire and cannot be renewed")
	}
	now := s.now()
	if rec.MaxTTL > 0 && !now.Before(rec.CreatedAt.Add(time.Duration(rec.MaxTTL)*time.Second)) {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Access token has reached its max TTL and cannot be renewed")
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RenewAccessToken(ctx, rec.ID, now); err != nil {
			return err
		}
		return s.recordToken(ctx, tx, coffer.ActionTokenRenew, rec)
	})
	if err != nil {
		return nil, err
	}
	rec.RenewedAt = now
	return &Issued{Token: token, Record: rec}, nil
}

// Revoke revokes the token given in the body. Holding a token is enough to revoke it.
func (s *Service) Revoke(ctx context.Context, token string) error {
	if token == "" {
		return coffer.Errorf(coffer.EVALIDATION, "accessToken is required")
	}
	id, err := s.signer.parse(token)
	if err != nil {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.RevokeAccessToken(ctx, id)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid access token")
		} else if err != nil {
			return err
		}
		rec, err := tx.FindAccessToken(ctx, id)
		if err != nil {
			return err
		}
		return s.recordToken(ctx, tx, coffer.ActionTokenRevoke, rec)
	})
}

// Now returns the service's clock reading (for responses that report seconds left).
func (s *Service) Now() time.Time { return s.now() }
