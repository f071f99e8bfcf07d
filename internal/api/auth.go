package api

import (
	"net/http"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{
		"date": isoTime(a.now()), "message": "Ok", "emailConfigured": a.Status.EmailConfigured,
		"redisConfigured": a.Status.RedisConfigured, "inviteOnlySignup": a.Members == nil || !a.Members.OpenSignup(), "secretScanningConfigured": false,
		"auditLogStorageDisabled": false,
	})
	return nil
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.Ready != nil {
		if err := a.Ready(r.Context()); err != nil {
			a.Log.Warn("not ready", "err", err)
			httpserver.WriteJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": coffer.ErrorMessage(err)})
			return nil
		}
	}
	body := map[string]string{"status": "ready"}
	if a.ReadyDetail != nil {
		for k, v := range a.ReadyDetail(r.Context()) {
			body[k] = v
		}
	}
	httpserver.WriteJSON(w, r, http.StatusOK, body)
	return nil
}

type tokenResponse struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int    `json:"expiresIn"`
	AccessTokenMaxTTL int    `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

func (a *API) writeToken(w http.ResponseWriter, r *http.Request, iss *identity.Issued) {
	httpserver.WriteJSON(w, r, http.StatusOK, tokenResponse{AccessToken: iss.Token, ExpiresIn: iss.ExpiresIn(a.Identity.Now()),
		AccessTokenMaxTTL: iss.Record.MaxTTL, TokenType: "Bearer"})
}

func (a *API) universalAuthLogin(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	iss, err := a.Identity.Login(r.Context(), strings.TrimSpace(b.ClientID), strings.TrimSpace(b.ClientSecret), httpserver.ClientIP(r))
	if err != nil {
		return err
	}
	a.writeToken(w, r, iss)
	return nil
}

func (a *API) passwordLogin(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	in := loginInput(r) // the client address and user agent, for the limits and the audit log
	in.Email, in.Password = b.Email, b.Password
	iss, err := a.Identity.LoginPassword(r.Context(), in)
	if err != nil {
		return err
	}
	a.writeToken(w, r, iss)
	return nil
}

type accessTokenBody struct {
	AccessToken string `json:"accessToken"`
}

func (a *API) renewToken(w http.ResponseWriter, r *http.Request) error {
	var b accessTokenBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	iss, err := a.Identity.Renew(r.Context(), b.AccessToken)
	if err != nil {
		return err
	}
	a.writeToken(w, r, iss)
	return nil
}

// revokeToken revokes the token in the body (Infisical's route needs no bearer; holding the
// token is the proof).
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	var b accessTokenBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.Identity.Revoke(r.Context(), b.AccessToken); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Successfully revoked access token"})
	return nil
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) error {
	me, err := a.Identity.Whoami(r.Context())
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"me": map[string]any{
		"kind": me.Actor.Kind, "id": me.Actor.ID, "name": me.Name, "email": me.Email, "orgId": me.Actor.OrgID,
		"authMethod": me.AuthMethod, "expiresIn": me.ExpiresIn,
	}})
	return nil
}
