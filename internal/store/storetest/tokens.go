package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func newToken(orgID string, kind coffer.ActorKind, actorID, method string) *coffer.AccessToken {
	return &coffer.AccessToken{ID: store.NewID(), ActorKind: kind, ActorID: actorID, OrgID: orgID, AuthMethod: method,
		TTL: 3600, MaxTTL: 7200, CreatedAt: t0, RenewedAt: t0}
}

func createToken(t *testing.T, db *store.DB, tok *coffer.AccessToken) {
	t.Helper()
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateAccessToken(t.Context(), tok) })
}

func testAccessTokens(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	ident := createIdentity(t, db, f.org.ID, "ci")
	ua := newUA(ident.ID)
	putUA(t, db, ua)
	cs := createClientSecret(t, db, ident.ID, 0, 0)

	viaUA := newToken(f.org.ID, coffer.ActorIdentity, ident.ID, coffer.AuthUniversal)
	viaUA.ClientSecretID, viaUA.NumUsesLimit = cs.ID, 10
	viaToken := newToken(f.org.ID, coffer.ActorIdentity, ident.ID, coffer.AuthToken)
	user := newToken(f.org.ID, coffer.ActorUser, f.user.ID, coffer.AuthPassword)
	for _, tok := range []*coffer.AccessToken{viaUA, viaToken, user} {
		createToken(t, db, tok)
	}
	// The identity's access-token trusted IPs come with a universal-auth token, and only then.
	withIPs := *viaUA
	withIPs.TrustedIPs, withIPs.TrustedVPCEndpointIDs = ua.AccessTokenTrustedIPs, ua.TrustedVPCEndpointIDs
	for _, want := range []*coffer.AccessToken{&withIPs, viaToken, user} {
		got, err := db.FindAccessToken(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FindAccessToken(%s) = %+v; want %+v", want.AuthMethod, got, want)
		}
	}
	_, err := db.FindAccessToken(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)

	mustTx(t, db, func(tx *store.Tx) error { return tx.RenewAccessToken(ctx, viaUA.ID, at(60)) })
	got, err := db.FindAccessToken(ctx, viaUA.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "RenewedAt", got.RenewedAt, at(60))
	wantTime(t, "CreatedAt after renew", got.CreatedAt, t0)

	mustTx(t, db, func(tx *store.Tx) error { return tx.RevokeAccessToken(ctx, viaUA.ID) })
	if got, err := db.FindAccessToken(ctx, viaUA.ID); err != nil || !got.Revoked {
		t.Fatalf("after RevokeAccessToken: %+v, %v; want revoked", got, err)
	}
	if got, _ := db.FindAccessToken(ctx, viaToken.ID); got.Revoked {
		t.Error("revoking one token revoked another")
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.RenewAccessToken(ctx, viaUA.ID, at(61)) }), coffer.ENOTFOUND)
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.RenewAccessToken(ctx, store.NewID(), at(61)) }), coffer.ENOTFOUND)
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAccessToken(ctx, store.NewID()) }), coffer.ENOTFOUND)

	use := func(id string) bool {
		t.Helper()
		var ok bool
		mustTx(t, db, func(tx *store.Tx) (err error) { ok, err = tx.UseAccessToken(ctx, id); return err })
		return ok
	}
	limited := newToken(f.org.ID, coffer.ActorIdentity, ident.ID, coffer.AuthUniversal)
	limited.NumUsesLimit = 2
	createToken(t, db, limited)
	if a, b, c := use(limited.ID), use(limited.ID), use(limited.ID); !a || !b || c {
		t.Errorf("UseAccessToken with limit 2 = %v %v %v; want true true false", a, b, c)
	}
	if got, _ := db.FindAccessToken(ctx, limited.ID); got.NumUses != 2 {
		t.Errorf("NumUses = %d; want 2", got.NumUses)
	}
	for range 3 {
		if !use(user.ID) {
			t.Fatal("UseAccessToken without a limit = false")
		}
	}
	if use(viaUA.ID) {
		t.Error("UseAccessToken of a revoked token = true")
	}
}

// testUseAccessTokenRace spends a token with 5 uses from 20 concurrent requests.
func testUseAccessTokenRace(t *testing.T, db *store.DB) {
	org := createOrg(t, db, "acme")
	ident := createIdentity(t, db, org.ID, "ci")
	tok := newToken(org.ID, coffer.ActorIdentity, ident.ID, coffer.AuthToken)
	tok.NumUsesLimit = 5
	createToken(t, db, tok)
	wins := raceN(t, 20, func(ctx context.Context) (ok bool, err error) {
		err = db.InTx(ctx, func(tx *store.Tx) error { ok, err = tx.UseAccessToken(ctx, tok.ID); return err })
		return ok, err
	})
	if wins != 5 {
		t.Errorf("%d of 20 concurrent uses succeeded; want exactly 5", wins)
	}
	if got, err := db.FindAccessToken(t.Context(), tok.ID); err != nil || got.NumUses != 5 {
		t.Errorf("NumUses = %+v, %v; want 5", got, err)
	}
}
