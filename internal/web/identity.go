package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

// One identity: its universal auth client ID, client secrets (new ones shown once, old ones
// revoked), its role in each project, and its deletion.

type projectRole struct {
	Project *coffer.Project
	Role    string   // "" : none
	Custom  []string // the project's custom role slugs
}

type identityData struct {
	Identity *coffer.Identity
	ClientID string
	UA       *coffer.UniversalAuth
	// The trusted lists as text, one entry per line.
	ClientIPs, TokenIPs, VPCEndpoints string
	Secrets                           []*coffer.ClientSecret
	Projects                          []projectRole
	NewSecret                         string // shown once
}

// projectRoles are the built-in project roles.
var projectRoles = []string{coffer.RoleAdmin, coffer.RoleMember, coffer.RoleViewer, coffer.RoleNoAccess}

func identityURL(id string) string { return "/identities/" + url.PathEscape(id) }

func (wb *Web) identityPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderIdentity(w, r, http.StatusOK, "", "", "")
}

func (wb *Web) renderIdentity(w http.ResponseWriter, r *http.Request, status int, errMsg, notice, newSecret string) error {
	ctx := r.Context()
	ident, err := wb.Identity.GetIdentity(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := identityData{Identity: ident, NewSecret: newSecret}
	if ua, err := wb.Identity.GetUniversalAuth(ctx, ident.ID); err == nil {
		d.ClientID, d.UA = ua.ClientID, ua
		d.ClientIPs, d.TokenIPs = ipLines(ua.ClientSecretTrustedIPs), ipLines(ua.AccessTokenTrustedIPs)
		d.VPCEndpoints = strings.Join(ua.TrustedVPCEndpointIDs, "\n")
		if d.Secrets, err = wb.Identity.ListClientSecrets(ctx, ident.ID); err != nil {
			return err
		}
	} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return err
	}
	ps, err := wb.Projects.ListProjects(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		pr := projectRole{Project: p}
		if roles, err := wb.Projects.ListRoles(ctx, p.ID); err == nil {
			for _, role := range roles {
				pr.Custom = append(pr.Custom, role.Slug)
			}
		}
		ms, err := wb.Projects.ListMemberships(ctx, p.ID)
		if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
			return err
		}
		for _, m := range ms {
			if m.ActorKind == coffer.ActorIdentity && m.ActorID == ident.ID {
				pr.Role = m.Role
			}
		}
		d.Projects = append(d.Projects, pr)
	}
	wb.render(w, r, status, "identity", &view{Title: ident.Name, Nav: "identities", Error: errMsg, Notice: notice, D: d})
	return nil
}

func (wb *Web) identityError(w http.ResponseWriter, r *http.Request, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderIdentity(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "", "")
}

// newClientSecret makes another client secret and shows it once.
func (wb *Web) newClientSecret(w http.ResponseWriter, r *http.Request) error {
	secret, _, err := wb.Identity.CreateClientSecret(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostFormValue("description")), 0, 0)
	if err != nil {
		return wb.identityError(w, r, err)
	}
	return wb.renderIdentity(w, r, http.StatusOK, "", "", secret)
}

func (wb *Web) revokeClientSecret(w http.ResponseWriter, r *http.Request) error {
	if _, err := wb.Identity.RevokeClientSecret(r.Context(), r.PathValue("id"), r.PostFormValue("secret")); err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, identityURL(r.PathValue("id")))
}

// setIdentityRole gives the identity a role in a project, or takes it away ("none").
func (wb *Web) setIdentityRole(w http.ResponseWriter, r *http.Request) error {
	id, project, role := r.PathValue("id"), r.PostFormValue("project"), r.PostFormValue("role")
	var err error
	if role == "none" {
		_, err = wb.Projects.DeleteIdentityMembership(r.Context(), project, id)
	} else {
		_, err = wb.Projects.SetIdentityMembership(r.Context(), project, id, role)
	}
	if err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, identityURL(id))
}

func (wb *Web) deleteIdentity(w http.ResponseWriter, r *http.Request) error {
	ident, err := wb.Identity.GetIdentity(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != ident.Name {
		return wb.identityError(w, r, coffer.Errorf(coffer.EVALIDATION, "confirm: type the identity's name to delete it"))
	}
	if _, err := wb.Identity.DeleteIdentity(r.Context(), ident.ID); err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, "/identities")
}

func ipLines(ips []coffer.TrustedIP) string {
	var b strings.Builder
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s/%d\n", ip.IPAddress, ip.Prefix)
	}
	return b.String()
}

// lines splits a textarea into its non-empty trimmed lines (commas also separate).
func lines(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// updateUniversalAuth changes the identity's token lifetimes, use limit and trusted origins.
func (wb *Web) updateUniversalAuth(w http.ResponseWriter, r *http.Request) error {
	var in identity.UniversalAuthInput
	ints := []struct {
		field string
		dst   **int
	}{{"ttl", &in.AccessTokenTTL}, {"max_ttl", &in.AccessTokenMaxTTL}, {"uses", &in.AccessTokenNumUsesLimit}}
	for _, f := range ints {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(f.field)))
		if err != nil {
			return wb.identityError(w, r, coffer.Errorf(coffer.EVALIDATION, "%s: must be a whole number of seconds or uses", f.field))
		}
		*f.dst = &n
	}
	clientIPs, tokenIPs, vpces := lines(r.PostFormValue("client_ips")), lines(r.PostFormValue("token_ips")), lines(r.PostFormValue("vpces"))
	in.ClientSecretTrustedIPs, in.AccessTokenTrustedIPs, in.TrustedVPCEndpointIDs = &clientIPs, &tokenIPs, &vpces
	if _, err := wb.Identity.UpdateUniversalAuth(r.Context(), r.PathValue("id"), in); err != nil {
		return wb.identityError(w, r, err)
	}
	return wb.renderIdentity(w, r, http.StatusOK, "", "Universal Auth settings saved.", "")
}
