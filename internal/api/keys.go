package api

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/projects"
)

// projectKeys answers a project's data-key state (GET …/keys) without key material.
func (a *API) projectKeys(w http.ResponseWriter, r *http.Request) error {
	st, err := a.Projects.KeyStatus(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, keyStatusJSON(st))
	return nil
}

// rotateProjectKey gives a project a new data key (POST …/keys/rotate), in effect for every
// write once it answers; the re-seal of the project's data runs in the background and
// GET …/keys follows it.
func (a *API) rotateProjectKey(w http.ResponseWriter, r *http.Request) error {
	st, err := a.Projects.RotateKey(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, keyStatusJSON(st))
	return nil
}

type projectKeyJSON struct {
	Term      uint32     `json:"term"`
	CreatedAt time.Time  `json:"createdAt"`
	RetiredAt *time.Time `json:"retiredAt"`
	Status    string     `json:"status"` // current, resealing (still opens older data), retired
}

func keyStatusJSON(st *projects.KeyStatus) map[string]any {
	keys := make([]projectKeyJSON, 0, len(st.Keys))
	for _, k := range st.Keys {
		j := projectKeyJSON{Term: k.Term, CreatedAt: k.CreatedAt, Status: "resealing"}
		switch {
		case !k.RetiredAt.IsZero():
			t := k.RetiredAt
			j.RetiredAt, j.Status = &t, "retired"
		case k.Term == st.CurrentTerm:
			j.Status = "current"
		}
		keys = append(keys, j)
	}
	out := map[string]any{"projectId": st.ProjectID, "currentTerm": st.CurrentTerm, "resealing": st.Resealing(),
		"pendingRows": st.Pending, "keys": keys}
	if j := st.Job; j != nil {
		// The job finishing the rotation: project.key_reseal (attempts, the last error, which
		// names rows, never values, and when it runs next) or project.key_retire (runAt: when the
		// older key is destroyed).
		out["job"] = map[string]any{"kind": j.Kind, "status": j.Status, "attempts": j.Attempts, "maxAttempts": j.MaxAttempts,
			"lastError": j.LastError, "runAt": j.RunAt}
	}
	return out
}
