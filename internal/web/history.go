package web

import (
	"net/http"
	"strconv"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/secrets"
)

// A secret's history: its versions with what changed, the values as a line diff when asked,
// and rollback to any of them (a new version; history is never rewritten).

type versionView struct {
	*coffer.SecretVersion
	Current      bool
	ValueChanged bool
	Diff         []diffLine // only when revealed
}

type historyData struct {
	Project  *coffer.Project
	Base     string
	Ref      secretRef
	Back     string
	Versions []versionView
	Revealed bool
	Actors   map[string]string // id → e-mail or name, of the organization's members and identities
}

// history lists a secret's versions, newest first, each with what changed from the one before;
// values (as a line diff) only when revealed.
func (wb *Web) history(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	vs, err := wb.Secrets.Versions(r.Context(), secrets.VersionsInput{Scope: ref.scope(p), Key: ref.Key})
	if err != nil {
		return err
	}
	d := historyData{Project: p, Base: projectURL(p), Ref: ref, Back: gridURL(p, ref.Path), Revealed: r.FormValue("reveal") == "1",
		Actors: wb.actorNames(r)}
	for i, v := range vs {
		vv := versionView{SecretVersion: v, Current: i == 0}
		prev := ""
		if i+1 < len(vs) {
			prev = vs[i+1].Value.Reveal()
			vv.ValueChanged = prev != v.Value.Reveal()
		} else {
			vv.ValueChanged = true
		}
		if d.Revealed {
			vv.Diff = lineDiff(prev, v.Value.Reveal())
		}
		d.Versions = append(d.Versions, vv)
	}
	wb.render(w, r, http.StatusOK, "history", &view{Title: "History of " + ref.Key, Nav: "projects", D: d})
	return nil
}

func (wb *Web) rollback(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil {
		return coffer.Errorf(coffer.EVALIDATION, "version: must be a positive integer")
	}
	if _, err := wb.Secrets.Rollback(r.Context(), ref.scope(p), ref.Key, coffer.SecretShared, version); err != nil {
		return err
	}
	return redirect(w, r, gridURL(p, ref.Path))
}

// actorNames maps the ids of the organization's members and identities to their e-mail
// addresses and names, as far as the user may list them.
func (wb *Web) actorNames(r *http.Request) map[string]string {
	out := map[string]string{}
	a := coffer.ActorFromContext(r.Context())
	if ms, err := wb.Members.ListMembers(r.Context(), a.OrgID); err == nil {
		for _, m := range ms {
			out[m.ActorID] = m.Email
		}
	}
	if ids, err := wb.Identity.ListIdentities(r.Context(), a.OrgID); err == nil {
		for _, i := range ids {
			out[i.ID] = i.Name + " (identity)"
		}
	}
	return out
}
