package api

import (
	"net/http"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

func (a *API) bootstrap(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email        string `json:"email"`
		Password     string `json:"password"`
		Organization string `json:"organization"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	res, err := a.Projects.Bootstrap(r.Context(), b.Email, b.Password, b.Organization)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{
		"message":      "Successfully bootstrapped instance",
		"user":         map[string]any{"id": res.User.ID, "email": res.User.Email, "username": res.User.Email, "createdAt": isoTime(res.User.CreatedAt)},
		"organization": map[string]any{"id": res.Org.ID, "name": res.Org.Name, "slug": res.Org.Slug},
		"identity": map[string]any{"id": res.Identity.ID, "name": res.Identity.Name,
			"credentials": map[string]string{"token": res.Token.Token}},
	})
	return nil
}

func (a *API) createProject(key string) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			ProjectName    string `json:"projectName"`
			Slug           string `json:"slug"`
			OrganizationID string `json:"organizationId"`
		}
		if err := httpserver.DecodeJSON(r, &b); err != nil {
			return err
		}
		if b.ProjectName == "" {
			return coffer.Errorf(coffer.EVALIDATION, "projectName: required")
		}
		p, err := a.Projects.CreateProject(r.Context(), b.OrganizationID, b.ProjectName, b.Slug)
		if err != nil {
			return err
		}
		httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{key: toProject(p)})
		return nil
	}
}

func (a *API) listProjects(key string) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ps, err := a.Projects.ListProjects(r.Context())
		if err != nil {
			return err
		}
		out := make([]wireProject, len(ps))
		for i, p := range ps {
			out[i] = toProject(p)
		}
		httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{key: out})
		return nil
	}
}

func (a *API) getProject(key string) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Projects.GetProject(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{key: toProject(p)})
		return nil
	}
}

// getProjectBySlug answers with the bare project object, as Infisical and its CLI do, and with
// the same object under "workspace" too, for clients written to the contract's shape.
func (a *API) getProjectBySlug(w http.ResponseWriter, r *http.Request, slug string) error {
	p, err := a.Projects.GetProjectBySlug(r.Context(), slug)
	if err != nil {
		return err
	}
	wp := toProject(p)
	httpserver.WriteJSON(w, r, http.StatusOK, struct {
		wireProject
		Workspace wireProject `json:"workspace"`
	}{wp, wp})
	return nil
}

func (a *API) deleteProject(key string) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Projects.DeleteProject(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{key: toProject(p)})
		return nil
	}
}

type environmentBody struct {
	Name     *string `json:"name"`
	Slug     *string `json:"slug"`
	Position *int    `json:"position"`
}

func writeEnvironment(w http.ResponseWriter, r *http.Request, msg string, e *coffer.Environment, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"message": msg, "projectId": e.ProjectID, "environment": toEnvironment(e)})
	return nil
}

func (a *API) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	var b environmentBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.Name == nil || b.Slug == nil {
		return coffer.Errorf(coffer.EVALIDATION, "name and slug: required")
	}
	pos := 0
	if b.Position != nil {
		pos = *b.Position
	}
	e, err := a.Projects.CreateEnvironment(r.Context(), r.PathValue("projectId"), *b.Name, *b.Slug, pos)
	return writeEnvironment(w, r, "Successfully created new environment", e, err)
}

func (a *API) updateEnvironment(w http.ResponseWriter, r *http.Request) error {
	var b environmentBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	e, err := a.Projects.UpdateEnvironment(r.Context(), r.PathValue("projectId"), r.PathValue("envId"), b.Name, b.Slug, b.Position)
	return writeEnvironment(w, r, "Successfully updated environment", e, err)
}

func (a *API) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	e, err := a.Projects.DeleteEnvironment(r.Context(), r.PathValue("projectId"), r.PathValue("envId"))
	return writeEnvironment(w, r, "Successfully deleted environment", e, err)
}

func writeIdentity(w http.ResponseWriter, r *http.Request, i *coffer.Identity, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identity": toIdentity(i)})
	return nil
}

func (a *API) createIdentity(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Name           string `json:"name"`
		OrganizationID string `json:"organizationId"`
		Role           string `json:"role"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	i, err := a.Identity.CreateIdentity(r.Context(), b.OrganizationID, b.Name, b.Role)
	return writeIdentity(w, r, i, err)
}

func (a *API) listIdentities(w http.ResponseWriter, r *http.Request) error {
	actor, err := httpserver.RequireActor(r)
	if err != nil {
		return err
	}
	orgID := first(httpserver.NewQuery(r).String("orgId", "organizationId"), actor.OrgID)
	ids, err := a.Identity.ListIdentities(r.Context(), orgID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"identity": toIdentity(id), "role": id.OrgRole}
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identities": out})
	return nil
}

func (a *API) getIdentity(w http.ResponseWriter, r *http.Request) error {
	i, err := a.Identity.GetIdentity(r.Context(), r.PathValue("id"))
	return writeIdentity(w, r, i, err)
}

func (a *API) deleteIdentity(w http.ResponseWriter, r *http.Request) error {
	i, err := a.Identity.DeleteIdentity(r.Context(), r.PathValue("id"))
	return writeIdentity(w, r, i, err)
}

type universalAuthBody struct {
	AccessTokenTTL          *int           `json:"accessTokenTTL"`
	AccessTokenMaxTTL       *int           `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit *int           `json:"accessTokenNumUsesLimit"`
	ClientSecretTrustedIPs  *[]trustedIPIn `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs   *[]trustedIPIn `json:"accessTokenTrustedIps"`
	// TrustedVPCEndpointIDs is Coffer's own: the AWS VPC endpoints (vpce-…) the identity may
	// log in and use its tokens through; empty means any.
	TrustedVPCEndpointIDs *[]string `json:"trustedVpcEndpointIds"`
}

type trustedIPIn struct {
	IPAddress string `json:"ipAddress"`
}

func ipList(in *[]trustedIPIn) *[]string {
	if in == nil {
		return nil
	}
	out := make([]string, len(*in))
	for i, e := range *in {
		out[i] = e.IPAddress
	}
	return &out
}

func (b universalAuthBody) input() identity.UniversalAuthInput {
	return identity.UniversalAuthInput{AccessTokenTTL: b.AccessTokenTTL, AccessTokenMaxTTL: b.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit: b.AccessTokenNumUsesLimit, ClientSecretTrustedIPs: ipList(b.ClientSecretTrustedIPs),
		AccessTokenTrustedIPs: ipList(b.AccessTokenTrustedIPs), TrustedVPCEndpointIDs: b.TrustedVPCEndpointIDs}
}

func writeUniversalAuth(w http.ResponseWriter, r *http.Request, ua *coffer.UniversalAuth, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identityUniversalAuth": toUniversalAuth(ua)})
	return nil
}

func (a *API) attachUniversalAuth(w http.ResponseWriter, r *http.Request) error {
	var b universalAuthBody
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	ua, err := a.Identity.AttachUniversalAuth(r.Context(), r.PathValue("identityId"), b.input())
	return writeUniversalAuth(w, r, ua, err)
}

func (a *API) getUniversalAuth(w http.ResponseWriter, r *http.Request) error {
	ua, err := a.Identity.GetUniversalAuth(r.Context(), r.PathValue("identityId"))
	return writeUniversalAuth(w, r, ua, err)
}

func (a *API) updateUniversalAuth(w http.ResponseWriter, r *http.Request) error {
	var b universalAuthBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	ua, err := a.Identity.UpdateUniversalAuth(r.Context(), r.PathValue("identityId"), b.input())
	return writeUniversalAuth(w, r, ua, err)
}

func (a *API) createClientSecret(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Description  string `json:"description"`
		NumUsesLimit int    `json:"numUsesLimit"`
		TTL          int    `json:"ttl"`
	}
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	secret, cs, err := a.Identity.CreateClientSecret(r.Context(), r.PathValue("identityId"), b.Description, b.NumUsesLimit, b.TTL)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"clientSecret": secret, "clientSecretData": toClientSecret(cs)})
	return nil
}

func (a *API) listClientSecrets(w http.ResponseWriter, r *http.Request) error {
	css, err := a.Identity.ListClientSecrets(r.Context(), r.PathValue("identityId"))
	if err != nil {
		return err
	}
	out := make([]wireClientSecret, len(css))
	for i, cs := range css {
		out[i] = toClientSecret(cs)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"clientSecretData": out})
	return nil
}

func (a *API) revokeClientSecret(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.Identity.RevokeClientSecret(r.Context(), r.PathValue("identityId"), r.PathValue("secretId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"clientSecretData": toClientSecret(cs)})
	return nil
}

func (a *API) setIdentityMembership(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Role  string `json:"role"`
		Roles []struct {
			Role string `json:"role"`
		} `json:"roles"`
	}
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	role := b.Role
	if len(b.Roles) > 1 {
		return coffer.Errorf(coffer.EVALIDATION, "roles: only one role per membership is supported")
	} else if len(b.Roles) == 1 {
		role = b.Roles[0].Role
	}
	if role == "" {
		return coffer.Errorf(coffer.EVALIDATION, "role: required")
	}
	m, err := a.Projects.SetIdentityMembership(r.Context(), r.PathValue("projectId"), r.PathValue("identityId"), role)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identityMembership": toMembership(m)})
	return nil
}

func (a *API) deleteIdentityMembership(w http.ResponseWriter, r *http.Request) error {
	m, err := a.Projects.DeleteIdentityMembership(r.Context(), r.PathValue("projectId"), r.PathValue("identityId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identityMembership": toMembership(m)})
	return nil
}

func (a *API) listIdentityMemberships(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.Projects.ListMemberships(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	out := make([]wireMembership, 0, len(ms))
	for _, m := range ms {
		if m.ActorKind == coffer.ActorIdentity {
			out = append(out, toMembership(m))
		}
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"identityMemberships": out})
	return nil
}
