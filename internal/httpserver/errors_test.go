package httpserver_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		errName    string
		message    string
		logsDetail string // non-empty: the detail must be in the log and not in the body
	}{
		{"invalid", coffer.Errorf(coffer.EINVALID, "bad request"), 400, "BadRequest", "bad request", ""},
		{"conflict", coffer.Errorf(coffer.ECONFLICT, "exists"), 400, "BadRequest", "exists", ""},
		{"validation", coffer.Errorf(coffer.EVALIDATION, "name: required"), 422, "ValidationFailure", "name: required", ""},
		{"not found", coffer.Errorf(coffer.ENOTFOUND, "no such secret"), 404, "NotFound", "no such secret", ""},
		{"unauthorized", coffer.Errorf(coffer.EUNAUTHORIZED, "Token expired"), 401, "UnauthorizedError", "Token expired", ""},
		{"forbidden", coffer.Errorf(coffer.EFORBIDDEN, "not allowed"), 403, "PermissionDenied", "not allowed", ""},
		{"rate limit", coffer.Errorf(coffer.ERATELIMIT, "slow down"), 429, "RateLimitError", "slow down", ""},
		{"too large", coffer.Errorf(coffer.ETOOLARGE, "value too large"), 413, "PayloadTooLarge", "value too large", ""},
		{"unavailable", fmt.Errorf("query: %w", coffer.Errorf(coffer.EUNAVAILABLE, "The database is unavailable; retry shortly")), 503,
			"ServiceUnavailable", "The database is unavailable; retry shortly", ""},
		{"wrapped", fmt.Errorf("find: %w", coffer.Errorf(coffer.ENOTFOUND, "gone")), 404, "NotFound", "gone", ""},
		{"internal", coffer.Errorf(coffer.EINTERNAL, "disk on fire"), 500, "InternalServerError", "Something went wrong", "disk on fire"},
		{"unknown code", coffer.Errorf("weird", "odd detail"), 500, "InternalServerError", "Something went wrong", "odd detail"},
		{"plain error", errors.New("pq: connection refused"), 500, "InternalServerError", "Something went wrong", "pq: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newLogger(slog.LevelInfo)
			a := httpserver.Adapter{Log: log}
			h := httpserver.Wrap(a.H(func(w http.ResponseWriter, r *http.Request) error { return tt.err }),
				httpserver.Options{Log: log})
			rec := serve(h, "GET", "/api/v3/secrets?token=x", nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := httpserver.StatusOf(coffer.ErrorCode(tt.err)); got != tt.status {
				t.Errorf("StatusOf = %d, want %d", got, tt.status)
			}
			b := mustErrBody(t, rec)
			if b.Error != tt.errName || b.Message != tt.message {
				t.Errorf("body = %+v, want error %q message %q", b, tt.errName, tt.message)
			}
			if tt.logsDetail == "" {
				return
			}
			if strings.Contains(rec.Body.String(), tt.logsDetail) {
				t.Errorf("body %q leaks %q", rec.Body, tt.logsDetail)
			}
			var found bool
			for _, l := range logLines(t, buf) {
				if l["level"] == "ERROR" && strings.Contains(fmt.Sprint(l["err"]), tt.logsDetail) {
					found = true
					if l["req_id"] != b.ReqID || l["method"] != "GET" || l["path"] != "/api/v3/secrets" {
						t.Errorf("error log line %v lacks request id, method or path", l)
					}
				}
			}
			if !found {
				t.Errorf("log has no error line with %q:\n%s", tt.logsDetail, buf)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	for code, want := range map[string]int{
		coffer.EINVALID: 400, coffer.ECONFLICT: 400, coffer.EVALIDATION: 422, coffer.ENOTFOUND: 404,
		coffer.EUNAUTHORIZED: 401, coffer.EFORBIDDEN: 403, coffer.ERATELIMIT: 429, coffer.ETOOLARGE: 413,
		coffer.EINTERNAL: 500, "": 500, "other": 500,
	} {
		if got := httpserver.StatusOf(code); got != want {
			t.Errorf("StatusOf(%q) = %d, want %d", code, got, want)
		}
	}
}

type retryErr struct {
	err   *coffer.Error
	after time.Duration
}

func (e retryErr) Error() string             { return e.err.Error() }
func (e retryErr) Unwrap() error             { return e.err }
func (e retryErr) RetryAfter() time.Duration { return e.after }

func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"rounds up", retryErr{coffer.Errorf(coffer.ERATELIMIT, "slow down"), 1500 * time.Millisecond}, "2"},
		{"at least one", retryErr{coffer.Errorf(coffer.ERATELIMIT, "slow down"), 0}, "1"},
		{"wrapped", fmt.Errorf("limit: %w", retryErr{coffer.Errorf(coffer.ERATELIMIT, "slow down"), 30 * time.Second}), "30"},
		{"none", coffer.Errorf(coffer.ERATELIMIT, "slow down"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpserver.WriteError(rec, httptest.NewRequest("GET", "/", nil), nil, tt.err)
			if rec.Code != 429 {
				t.Fatalf("status = %d", rec.Code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
			mustErrBody(t, rec) // outside the middleware too, reqId equals the header
		})
	}
}

func TestAdapterErrorAfterWrite(t *testing.T) {
	log, buf := newLogger(slog.LevelInfo)
	a := httpserver.Adapter{Log: log}
	h := httpserver.Wrap(a.H(func(w http.ResponseWriter, r *http.Request) error {
		httpserver.WriteJSON(w, r, http.StatusCreated, map[string]string{"ok": "yes"})
		return errors.New("late failure")
	}), httpserver.Options{Log: log})
	rec := serve(h, "POST", "/x", nil)
	if rec.Code != http.StatusCreated || strings.Contains(rec.Body.String(), "Something") {
		t.Errorf("response = %d %q, want the handler's own", rec.Code, rec.Body)
	}
	if !strings.Contains(buf.String(), "late failure") {
		t.Errorf("late error not logged:\n%s", buf)
	}
}
