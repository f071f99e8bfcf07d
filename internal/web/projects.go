package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

type overviewData struct {
	Organization string
	Projects     []*coffer.Project
	EnforceMFA   bool
}

// overview is the organization's front page: its projects and where to go next.
func (wb *Web) overview(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	set, err := wb.Members.GetSettings(r.Context(), a.OrgID)
	if coffer.ErrorCode(err) == coffer.EFORBIDDEN {
		// A user who only holds project roles (organization role no-access) may not read the
		// organization: their home is the list of their projects.
		return redirect(w, r, "/projects")
	}
	if err != nil {
		return err
	}
	ps, err := wb.Projects.ListProjects(r.Context())
	if err != nil {
		return err
	}
	wb.render(w, r, http.StatusOK, "overview", &view{Title: set.Org.Name, Nav: "overview",
		D: overviewData{Organization: set.Org.Name, Projects: ps, EnforceMFA: set.EnforceMFA}})
	return nil
}

type projectsData struct {
	Projects []*coffer.Project
	Name     string
}

func (wb *Web) projectsPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderProjects(w, r, http.StatusOK, "", "")
}

func (wb *Web) renderProjects(w http.ResponseWriter, r *http.Request, status int, name, msg string) error {
	ps, err := wb.Projects.ListProjects(r.Context())
	if err != nil {
		return err
	}
	wb.render(w, r, status, "projects", &view{Title: "Projects", Nav: "projects", Error: msg,
		D: projectsData{Projects: ps, Name: name}})
	return nil
}

func (wb *Web) createProject(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	p, err := wb.Projects.CreateProject(r.Context(), "", name, strings.TrimSpace(r.PostFormValue("slug")))
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		return wb.renderProjects(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), name, msg)
	}
	return redirect(w, r, "/projects/"+url.PathEscape(p.Slug))
}
