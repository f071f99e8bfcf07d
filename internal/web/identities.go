package web

import (
	"net/http"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

type identitiesData struct {
	Identities []*coffer.Identity
	Projects   []*coffer.Project
	Name       string
	// Created is the identity just made, with its client secret: shown this once.
	Created *createdIdentity
}

type createdIdentity struct {
	Name, ClientID, ClientSecret, Project, ProjectID, Role string
	// APIURL is this server as the CLI should reach it.
	APIURL string
}

// siteURL is the server's address as the browser reached it.
func siteURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (wb *Web) identitiesPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderIdentities(w, r, http.StatusOK, "", identitiesData{})
}

func (wb *Web) renderIdentities(w http.ResponseWriter, r *http.Request, status int, msg string, d identitiesData) error {
	a := coffer.ActorFromContext(r.Context())
	ids, err := wb.Identity.ListIdentities(r.Context(), a.OrgID)
	if err != nil {
		return err
	}
	ps, err := wb.Projects.ListProjects(r.Context())
	if err != nil {
		return err
	}
	d.Identities, d.Projects = ids, ps
	wb.render(w, r, status, "identities", &view{Title: "Machine identities", Nav: "identities", Error: msg, D: d})
	return nil
}

// createIdentity makes an identity with universal auth and one client secret, and (when a
// project is chosen) gives it a role in that project. The client secret is shown once.
func (wb *Web) createIdentity(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	projectID, role := r.PostFormValue("project"), r.PostFormValue("role")
	fail := func(err error) error {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		return wb.renderIdentities(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, identitiesData{Name: name})
	}
	ident, err := wb.Identity.CreateIdentity(r.Context(), a.OrgID, name, coffer.RoleNoAccess)
	if err != nil {
		return fail(err)
	}
	ua, err := wb.Identity.AttachUniversalAuth(r.Context(), ident.ID, identity.UniversalAuthInput{})
	if err != nil {
		return fail(err)
	}
	secret, _, err := wb.Identity.CreateClientSecret(r.Context(), ident.ID, "dashboard", 0, 0)
	if err != nil {
		return fail(err)
	}
	created := &createdIdentity{Name: ident.Name, ClientID: ua.ClientID, ClientSecret: secret, APIURL: siteURL(r)}
	if projectID != "" {
		if _, err := wb.Projects.SetIdentityMembership(r.Context(), projectID, ident.ID, role); err != nil {
			return fail(err)
		}
		if p, err := wb.Projects.GetProject(r.Context(), projectID); err == nil {
			created.Project, created.ProjectID, created.Role = p.Name, p.ID, role
		}
	}
	return wb.renderIdentities(w, r, http.StatusOK, "", identitiesData{Created: created})
}
