package server

import (
	"context"
	"net/http"

	"github.com/cofferhq/coffer/internal/api"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/web"
)

// mountWeb registers the dashboard's pages on mux, calling the same services as the API a.
func mountWeb(mux *http.ServeMux, a *api.API, db *store.DB) error {
	w := &web.Web{Log: a.Log, Secrets: a.Secrets, Identity: a.Identity, Projects: a.Projects, Members: a.Members,
		Audit: a.AuditReader, Sessions: a.Sessions,
		Bootstrapped: func(ctx context.Context) (bool, error) {
			_, ok, err := db.FindSetting(ctx, "bootstrapped")
			return ok, err
		}}
	return w.Routes(mux)
}
