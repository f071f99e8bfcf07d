package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func createIdentity(t *testing.T, db *store.DB, orgID, name string) *coffer.Identity {
	t.Helper()
	i := &coffer.Identity{ID: store.NewID(), OrgID: orgID, Name: name, CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateIdentity(t.Context(), i) })
	return i
}

func newUA(identityID string) *coffer.UniversalAuth {
	return &coffer.UniversalAuth{ID: store.NewID(), IdentityID: identityID, ClientID: store.NewID(),
		AccessTokenTTL: 3600, AccessTokenMaxTTL: 7200,
		ClientSecretTrustedIPs: []coffer.TrustedIP{{IPAddress: "0.0.0.0", Type: "ipv4", Prefix: 0}, {IPAddress: "::", Type: "ipv6", Prefix: 0}},
		AccessTokenTrustedIPs:  []coffer.TrustedIP{{IPAddress: "10.0.0.0", Type: "ipv4", Prefix: 8}, {IPAddress: "2001:db8::1", Type: "ipv6", Prefix: 128}},
		TrustedVPCEndpointIDs:  []string{"vpce-0123456789abcdef0", "vpce-1234abcd"},
		CreatedAt:              t0, UpdatedAt: t0}
}

func putUA(t *testing.T, db *store.DB, ua *coffer.UniversalAuth) {
	t.Helper()
	mustTx(t, db, func(tx *store.Tx) error { return tx.PutUniversalAuth(t.Context(), ua) })
}

func findIdentity(t *testing.T, db *store.DB, id string) *coffer.Identity {
	t.Helper()
	got, err := db.FindIdentity(t.Context(), id)
	if err != nil {
		t.Fatalf("FindIdentity: %v", err)
	}
	return got
}

func testIdentities(t *testing.T, db *store.DB) {
	ctx := t.Context()
	org, other := createOrg(t, db, "acme"), createOrg(t, db, "other")
	ci := createIdentity(t, db, org.ID, "ci")
	app := createIdentity(t, db, org.ID, "app")
	createIdentity(t, db, other.ID, "aaa")

	got := findIdentity(t, db, ci.ID)
	if got.ID != ci.ID || got.OrgID != org.ID || got.Name != "ci" || got.OrgRole != "" {
		t.Errorf("FindIdentity = %+v; want ci with no role yet", got)
	}
	if got.AuthMethods == nil || len(got.AuthMethods) != 0 {
		t.Errorf("AuthMethods = %#v; want an empty, non-nil list (it is JSON [])", got.AuthMethods)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, t0)

	mustTx(t, db, func(tx *store.Tx) error {
		// A user whose id is the identity's would not be the identity.
		if err := tx.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: org.ID, ActorKind: coffer.ActorUser, ActorID: ci.ID, Role: coffer.RoleAdmin}, t0); err != nil {
			return err
		}
		return tx.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: org.ID, ActorKind: coffer.ActorIdentity, ActorID: ci.ID, Role: coffer.RoleMember}, t0)
	})
	if got := findIdentity(t, db, ci.ID); got.OrgRole != coffer.RoleMember {
		t.Errorf("OrgRole = %q; want member", got.OrgRole)
	}
	putUA(t, db, newUA(ci.ID))
	if got := findIdentity(t, db, ci.ID); !slices.Equal(got.AuthMethods, []string{coffer.AuthUniversal}) {
		t.Errorf("AuthMethods after PutUniversalAuth = %q; want [universal-auth]", got.AuthMethods)
	}

	list, err := db.ListIdentities(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != app.ID || list[1].ID != ci.ID {
		t.Fatalf("ListIdentities = %+v; want app, ci (by name, this organization only)", list)
	}
	if list[1].OrgRole != coffer.RoleMember || !slices.Equal(list[1].AuthMethods, []string{coffer.AuthUniversal}) ||
		list[0].AuthMethods == nil || len(list[0].AuthMethods) != 0 {
		t.Errorf("ListIdentities roles and methods = %+v, %+v", list[0], list[1])
	}
	_, err = db.FindIdentity(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)

	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteUniversalAuth(ctx, ci.ID) })
	if got := findIdentity(t, db, ci.ID); len(got.AuthMethods) != 0 {
		t.Errorf("AuthMethods after DeleteUniversalAuth = %q; want none", got.AuthMethods)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteUniversalAuth(ctx, ci.ID) }), coffer.ENOTFOUND)
}

func testUniversalAuth(t *testing.T, db *store.DB) {
	ctx := t.Context()
	org := createOrg(t, db, "acme")
	ident := createIdentity(t, db, org.ID, "ci")
	ua := newUA(ident.ID)
	putUA(t, db, ua)
	for name, find := range map[string]func() (*coffer.UniversalAuth, error){
		"FindUniversalAuth":           func() (*coffer.UniversalAuth, error) { return db.FindUniversalAuth(ctx, ident.ID) },
		"FindUniversalAuthByClientID": func() (*coffer.UniversalAuth, error) { return db.FindUniversalAuthByClientID(ctx, ua.ClientID) },
	} {
		got, err := find()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, ua) {
			t.Errorf("%s = %+v; want %+v", name, got, ua)
		}
	}

	// A second put replaces the settings and keeps the identity's id and client id.
	upd := *ua
	upd.AccessTokenTTL, upd.AccessTokenMaxTTL, upd.AccessTokenNumUsesLimit, upd.UpdatedAt = 60, 120, 3, at(7)
	upd.ClientSecretTrustedIPs = []coffer.TrustedIP{{IPAddress: "192.0.2.1", Type: "ipv4", Prefix: 32}}
	upd.AccessTokenTrustedIPs = []coffer.TrustedIP{}
	upd.TrustedVPCEndpointIDs = nil
	putUA(t, db, &upd)
	got, err := db.FindUniversalAuth(ctx, ident.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ua.ID || got.ClientID != ua.ClientID || got.AccessTokenTTL != 60 || got.AccessTokenMaxTTL != 120 || got.AccessTokenNumUsesLimit != 3 {
		t.Errorf("after the second PutUniversalAuth: %+v", got)
	}
	if !reflect.DeepEqual(got.ClientSecretTrustedIPs, upd.ClientSecretTrustedIPs) || len(got.AccessTokenTrustedIPs) != 0 {
		t.Errorf("trusted IPs after the second put = %+v / %+v; want %+v / none", got.ClientSecretTrustedIPs, got.AccessTokenTrustedIPs, upd.ClientSecretTrustedIPs)
	}
	if got.TrustedVPCEndpointIDs != nil {
		t.Errorf("trusted VPC endpoints after a put without them = %q; want none", got.TrustedVPCEndpointIDs)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, t0)
	wantTime(t, "UpdatedAt", got.UpdatedAt, at(7))

	_, err = db.FindUniversalAuthByClientID(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindUniversalAuth(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)
	// A client id belongs to one identity.
	second := createIdentity(t, db, org.ID, "second")
	clash := newUA(second.ID)
	clash.ClientID = ua.ClientID
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.PutUniversalAuth(ctx, clash) }))
	// Without trusted-IP lists.
	bare := newUA(second.ID)
	bare.ClientSecretTrustedIPs, bare.AccessTokenTrustedIPs = nil, nil
	putUA(t, db, bare)
	if got, err := db.FindUniversalAuth(ctx, second.ID); err != nil || len(got.ClientSecretTrustedIPs)+len(got.AccessTokenTrustedIPs) != 0 {
		t.Errorf("UA without trusted IPs = %+v, %v; want empty lists", got, err)
	}
}

func createClientSecret(t *testing.T, db *store.DB, identityID string, limit int, created int) *coffer.ClientSecret {
	t.Helper()
	cs := &coffer.ClientSecret{ID: store.NewID(), IdentityID: identityID, Description: uniq("cs"), Prefix: "ab12",
		Hash: []byte{0x00, 0xff, 0x10, 0x00}, TTL: 3600, NumUsesLimit: limit, CreatedAt: at(created), UpdatedAt: at(created)}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateClientSecret(t.Context(), cs) })
	return cs
}

func secretIDs(cs []*coffer.ClientSecret) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testClientSecrets(t *testing.T, db *store.DB) {
	ctx := t.Context()
	org := createOrg(t, db, "acme")
	ident, other := createIdentity(t, db, org.ID, "ci"), createIdentity(t, db, org.ID, "other")
	putUA(t, db, newUA(ident.ID))
	cs1 := createClientSecret(t, db, ident.ID, 0, 1)
	cs2 := createClientSecret(t, db, ident.ID, 0, 2)
	cs3 := createClientSecret(t, db, ident.ID, 2, 3)
	createClientSecret(t, db, other.ID, 0, 4)

	got, err := db.FindClientSecret(ctx, ident.ID, cs3.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cs3) {
		t.Errorf("FindClientSecret = %+v; want %+v", got, cs3)
	}
	_, err = db.FindClientSecret(ctx, other.ID, cs3.ID) // another identity's
	wantCode(t, err, coffer.ENOTFOUND)

	mustTx(t, db, func(tx *store.Tx) error { return tx.RevokeClientSecret(ctx, ident.ID, cs2.ID, at(9)) })
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeClientSecret(ctx, other.ID, cs1.ID, at(9)) }), coffer.ENOTFOUND)
	active, err := db.ListClientSecrets(ctx, ident.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if ids := secretIDs(active); !slices.Equal(ids, []string{cs3.ID, cs1.ID}) {
		t.Errorf("ListClientSecrets(active) = %v; want cs3, cs1 (newest first, revoked left out)", ids)
	}
	all, err := db.ListClientSecrets(ctx, ident.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if ids := secretIDs(all); !slices.Equal(ids, []string{cs3.ID, cs2.ID, cs1.ID}) {
		t.Fatalf("ListClientSecrets(all) = %v; want cs3, cs2, cs1", ids)
	}
	if !all[1].Revoked || all[0].Revoked {
		t.Errorf("Revoked flags = %v %v; want cs2 only", all[0].Revoked, all[1].Revoked)
	}
	wantTime(t, "revoked UpdatedAt", all[1].UpdatedAt, at(9))

	use := func(id string) bool {
		t.Helper()
		var ok bool
		mustTx(t, db, func(tx *store.Tx) (err error) { ok, err = tx.UseClientSecret(ctx, id); return err })
		return ok
	}
	if a, b, c := use(cs3.ID), use(cs3.ID), use(cs3.ID); !a || !b || c {
		t.Errorf("UseClientSecret with limit 2 = %v %v %v; want true true false", a, b, c)
	}
	if got, _ := db.FindClientSecret(ctx, ident.ID, cs3.ID); got.NumUses != 2 {
		t.Errorf("NumUses = %d; want 2 (a refused use counts nothing)", got.NumUses)
	}
	for range 5 {
		if !use(cs1.ID) {
			t.Fatal("UseClientSecret without a limit = false")
		}
	}
	if use(cs2.ID) {
		t.Error("UseClientSecret of a revoked secret = true")
	}
	if use(store.NewID()) {
		t.Error("UseClientSecret of an unknown secret = true")
	}

	// DeleteUniversalAuth takes the client secrets along.
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteUniversalAuth(ctx, ident.ID) })
	if all, err := db.ListClientSecrets(ctx, ident.ID, true); err != nil || len(all) != 0 {
		t.Errorf("client secrets after DeleteUniversalAuth = %v, %v; want none", all, err)
	}
}

// testUseClientSecretRace spends a client secret with 5 uses from 20 concurrent logins.
func testUseClientSecretRace(t *testing.T, db *store.DB) {
	org := createOrg(t, db, "acme")
	ident := createIdentity(t, db, org.ID, "ci")
	cs := createClientSecret(t, db, ident.ID, 5, 0)
	wins := raceN(t, 20, func(ctx context.Context) (ok bool, err error) {
		err = db.InTx(ctx, func(tx *store.Tx) error { ok, err = tx.UseClientSecret(ctx, cs.ID); return err })
		return ok, err
	})
	if wins != 5 {
		t.Errorf("%d of 20 concurrent uses succeeded; want exactly 5", wins)
	}
	if got, err := db.FindClientSecret(t.Context(), ident.ID, cs.ID); err != nil || got.NumUses != 5 {
		t.Errorf("NumUses = %+v, %v; want 5", got, err)
	}
}

func testDeleteIdentity(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	gone, kept := createIdentity(t, db, f.org.ID, "gone"), createIdentity(t, db, f.org.ID, "kept")
	putUA(t, db, newUA(gone.ID))
	cs := createClientSecret(t, db, gone.ID, 0, 0)
	tokens := map[string]*coffer.AccessToken{}
	for _, id := range []string{gone.ID, kept.ID} {
		tok := newToken(f.org.ID, coffer.ActorIdentity, id, coffer.AuthUniversal)
		mustTx(t, db, func(tx *store.Tx) error {
			for _, m := range []struct{ scope, scopeID string }{{store.ScopeOrg, f.org.ID}, {store.ScopeProject, f.project.ID}} {
				if err := tx.PutMembership(ctx, m.scope, &coffer.Membership{ScopeID: m.scopeID, ActorKind: coffer.ActorIdentity, ActorID: id, Role: coffer.RoleMember}, t0); err != nil {
					return err
				}
			}
			return tx.CreateAccessToken(ctx, tok)
		})
		tokens[id] = tok
	}

	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteIdentity(ctx, gone.ID) })
	_, err := db.FindIdentity(ctx, gone.ID)
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindAccessToken(ctx, tokens[gone.ID].ID)
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindUniversalAuth(ctx, gone.ID)
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindClientSecret(ctx, gone.ID, cs.ID)
	wantCode(t, err, coffer.ENOTFOUND)
	for _, m := range []struct{ scope, scopeID string }{{store.ScopeOrg, f.org.ID}, {store.ScopeProject, f.project.ID}} {
		_, err := db.FindMembership(ctx, m.scope, m.scopeID, coffer.ActorIdentity, gone.ID)
		wantCode(t, err, coffer.ENOTFOUND)
		if _, err := db.FindMembership(ctx, m.scope, m.scopeID, coffer.ActorIdentity, kept.ID); err != nil {
			t.Errorf("the other identity's %s membership: %v", m.scope, err)
		}
	}
	if _, err := db.FindAccessToken(ctx, tokens[kept.ID].ID); err != nil {
		t.Errorf("the other identity's token: %v", err)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteIdentity(ctx, gone.ID) }), coffer.ENOTFOUND)
}
