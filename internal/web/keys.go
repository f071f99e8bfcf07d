package web

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/projects"
)

// keySection is the settings page's "Encryption key" section.
type keySection struct {
	Status  *projects.KeyStatus
	Busy    bool // a re-seal job is queued or running: a rotation is refused until it ends
	Current keyRow
	Rows    []keyRow // newest first
}

type keyRow struct {
	Term             uint32
	Created, Retired time.Time
	State            string // "current", "re-encrypting" (an older key still in use), "destroyed"
}

// keySectionOf returns the key section of a project, or nil when the user may not read the
// project's settings.
func (wb *Web) keySectionOf(r *http.Request, p *coffer.Project) (*keySection, error) {
	st, err := wb.Projects.KeyStatus(r.Context(), p.ID)
	if coffer.ErrorCode(err) == coffer.EFORBIDDEN {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ks := &keySection{Status: st, Busy: st.Busy()}
	for i := len(st.Keys) - 1; i >= 0; i-- {
		k := st.Keys[i]
		row := keyRow{Term: k.Term, Created: k.CreatedAt, Retired: k.RetiredAt, State: "re-encrypting"}
		switch {
		case !k.RetiredAt.IsZero():
			row.State = "destroyed"
		case k.Term == st.CurrentTerm:
			row.State = "current"
			ks.Current = row
		}
		ks.Rows = append(ks.Rows, row)
	}
	return ks, nil
}

// keysPartial answers the key section alone: the settings page polls it (htmx) while a
// rotation's re-encryption runs. Without htmx it sends the browser to the settings page.
func (wb *Web) keysPartial(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		return redirect(w, r, projectURL(p)+"/settings#keyh")
	}
	ks, err := wb.keySectionOf(r, p)
	if err != nil {
		return err
	}
	wb.renderPartial(w, r, "settings", "keys", &view{CSRF: httpserver.CSRFToken(r), D: settingsData{Project: p, Base: projectURL(p), Keys: ks}})
	return nil
}

// rotateKey gives the project a new data key; its data is re-encrypted in the background.
func (wb *Web) rotateKey(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if _, err := wb.Projects.RotateKey(r.Context(), p.ID); err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		return wb.renderSettings(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg)
	}
	return redirect(w, r, projectURL(p)+"/settings#keyh")
}
