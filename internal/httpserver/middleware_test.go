package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^req-[A-Za-z0-9]{14}$`)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"none", "", false},
		{"valid", "abc.DEF_123-x", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"65 chars", strings.Repeat("a", 65), false},
		{"bad characters", "abc def", false},
		{"injection", "x\"}{\"level\":\"ERROR", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = httpserver.RequestID(r.Context())
			}), httpserver.Options{Log: slog.New(slog.DiscardHandler)})
			var hdr []string
			if tt.in != "" {
				hdr = []string{"X-Request-Id", tt.in}
			}
			rec := serve(h, "GET", "/", nil, hdr...)
			got := rec.Header().Get("X-Request-Id")
			if got != seen {
				t.Errorf("header %q, context %q", got, seen)
			}
			if tt.keep && got != tt.in {
				t.Errorf("id = %q, want the client's %q", got, tt.in)
			}
			if !tt.keep && !generated.MatchString(got) {
				t.Errorf("id = %q, want a generated one", got)
			}
		})
	}
	if httpserver.RequestID(context.Background()) != "" {
		t.Error("RequestID of a bare context is not empty")
	}
}

func TestTrailingSlash(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "status "+r.URL.Path)
	})
	mux.HandleFunc("GET /api/v3/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret "+r.PathValue("name"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "root") })
	h := httpserver.Wrap(mux, httpserver.Options{Log: slog.New(slog.DiscardHandler)})
	tests := []struct{ path, want string }{
		{"/api/status", "status /api/status"},
		{"/api/status/", "status /api/status"},
		{"/api/status//", "status /api/status"},
		{"/api/status/?x=1", "status /api/status"},
		{"/api/v3/secrets/DB_URL/", "secret DB_URL"},
		{"/api/v3/secrets/a%2Fb/", "secret a/b"},
		{"/", "root"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := serve(h, "GET", tt.path, nil)
			if rec.Code != 200 || rec.Body.String() != tt.want {
				t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	log, buf := newLogger(slog.LevelInfo)
	h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, "hello")
	}), httpserver.Options{Log: log})
	serve(h, "POST", "/api/v3/secrets/raw/KEY?workspaceId=planted-query", strings.NewReader(`{"secretValue":"planted-body"}`),
		"User-Agent", "infisical-cli/1.0", "X-Request-Id", "rid-1")
	serve(h, "GET", "/healthz", nil)
	serve(h, "GET", "/api/status/", nil)

	lines := logLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1 (health checks log at Debug):\n%s", len(lines), buf)
	}
	want := map[string]any{
		"level": "INFO", "method": "POST", "path": "/api/v3/secrets/raw/KEY", "status": 201.0, "bytes": 5.0,
		"req_id": "rid-1", "ip": "192.0.2.1", "user_agent": "infisical-cli/1.0",
	}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("%s = %v, want %v", k, lines[0][k], v)
		}
	}
	if _, ok := lines[0]["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms missing: %v", lines[0])
	}
	for _, planted := range []string{"planted-query", "planted-body", "workspaceId"} {
		if strings.Contains(buf.String(), planted) {
			t.Errorf("log contains %q:\n%s", planted, buf)
		}
	}

	debugLog, debugBuf := newLogger(slog.LevelDebug)
	h = httpserver.Wrap(http.NotFoundHandler(), httpserver.Options{Log: debugLog})
	serve(h, "GET", "/readyz", nil)
	if l := logLines(t, debugBuf); len(l) != 1 || l[0]["level"] != "DEBUG" || l[0]["status"] != 404.0 {
		t.Errorf("readyz log = %v, want one DEBUG line with status 404", l)
	}
}

func TestAuthentication(t *testing.T) {
	const token = "st.PLANTED-token-9f8e7d6c5b4a"
	type call struct {
		token string
		ip    netip.Addr
	}
	tests := []struct {
		name      string
		header    []string
		authErr   error
		wantCall  bool
		status    int
		message   string
		wantActor bool
	}{
		{"bearer", []string{"Authorization", "Bearer " + token}, nil, true, 200, "", true},
		{"lowercase scheme", []string{"Authorization", "bearer " + token}, nil, true, 200, "", true},
		{"no header", nil, nil, false, 401, "Token missing", false},
		{"invalid token", []string{"Authorization", "Bearer " + token}, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid token"), true, 401, "Invalid token", false},
		{"forbidden ip", []string{"Authorization", "Bearer " + token}, coffer.Errorf(coffer.EFORBIDDEN, "IP not allowed"), true, 403, "IP not allowed", false},
		{"rate limited", []string{"Authorization", "Bearer " + token}, coffer.Errorf(coffer.ERATELIMIT, "Too many requests"), true, 429, "Too many requests", false},
		{"store down", []string{"Authorization", "Bearer " + token}, fmt.Errorf("lookup token: %w", io.ErrUnexpectedEOF), true, 500, "Something went wrong", false},
		{"basic", []string{"Authorization", "Basic " + token}, nil, false, 401, "Invalid authorization header", false},
		{"no token", []string{"Authorization", "Bearer"}, nil, false, 401, "Invalid authorization header", false},
		{"empty token", []string{"Authorization", "Bearer "}, nil, false, 401, "Invalid authorization header", false},
		{"two parts", []string{"Authorization", "Bearer " + token + " extra"}, nil, false, 401, "Invalid authorization header", false},
		{"bare token", []string{"Authorization", token}, nil, false, 401, "Invalid authorization header", false},
		{"two headers", []string{"Authorization", "Bearer " + token, "Authorization", "Bearer other"}, nil, false, 401, "Invalid authorization header", false},
	}
	log, buf := newLogger(slog.LevelDebug)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []call
			shared := &coffer.Actor{Kind: coffer.ActorIdentity, ID: "id-1", OrgID: "org-1", TokenID: "tok-1"}
			auth := func(ctx context.Context, tok string, ip netip.Addr) (*coffer.Actor, error) {
				calls = append(calls, call{tok, ip})
				if tt.authErr != nil {
					return nil, tt.authErr
				}
				return shared, nil
			}
			a := httpserver.Adapter{Log: log}
			h := httpserver.Wrap(a.H(func(w http.ResponseWriter, r *http.Request) error {
				actor, err := httpserver.RequireActor(r)
				if err != nil {
					return err
				}
				if actor.ID != "id-1" || actor.IP != netip.MustParseAddr("192.0.2.1") || actor.UserAgent != "coffer-test" {
					t.Errorf("actor = %+v", actor)
				}
				httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"id": actor.ID})
				return nil
			}), httpserver.Options{Log: log, Authenticate: auth})
			header := append([]string{"User-Agent", "coffer-test"}, tt.header...)
			rec := serve(h, "GET", "/api/v1/auth/token?accessToken="+token, nil, header...)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.wantCall != (len(calls) == 1) {
				t.Fatalf("Authenticate calls = %v, want called: %v", calls, tt.wantCall)
			}
			if tt.wantCall && (calls[0].token != token || calls[0].ip != netip.MustParseAddr("192.0.2.1")) {
				t.Errorf("Authenticate(%q, %v), want the token and 192.0.2.1", calls[0].token, calls[0].ip)
			}
			if shared.IP.IsValid() || shared.UserAgent != "" {
				t.Errorf("the middleware modified Authenticate's actor: %+v", shared)
			}
			if tt.status != 200 {
				if b := mustErrBody(t, rec); b.Message != tt.message {
					t.Errorf("message = %q, want %q", b.Message, tt.message)
				}
			}
		})
	}
	if strings.Contains(buf.String(), "PLANTED") {
		t.Errorf("the token appears in the log:\n%s", buf)
	}
	if !strings.Contains(buf.String(), "lookup token") {
		t.Errorf("the internal error of Authenticate was not logged:\n%s", buf)
	}
}

func TestNoAuthenticate(t *testing.T) {
	h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := httpserver.RequireActor(r); err == nil {
			t.Error("an actor without Authenticate")
		}
	}), httpserver.Options{Log: slog.New(slog.DiscardHandler)})
	if rec := serve(h, "GET", "/api/status", nil, "Authorization", "Bearer x"); rec.Code != 200 {
		t.Errorf("status = %d; public routes ignore the header without Authenticate", rec.Code)
	}
}

func TestPanicRecovery(t *testing.T) {
	log, buf := newLogger(slog.LevelInfo)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom: kaboom-detail") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, "partial")
		panic("late boom")
	})
	srv := httptest.NewServer(httpserver.Wrap(mux, httpserver.Options{Log: log}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rec := httptest.NewRecorder()
	rec.Code = resp.StatusCode
	rec.Body.Write(body)
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	b := mustErrBody(t, rec)
	if resp.StatusCode != 500 || b.Message != "Something went wrong" || b.Error != "InternalServerError" {
		t.Errorf("panic answered %d %+v", resp.StatusCode, b)
	}
	if strings.Contains(string(body), "kaboom") {
		t.Errorf("body leaks the panic value: %s", body)
	}
	var panicLine, accessLine map[string]any
	for _, l := range logLines(t, buf) {
		switch l["msg"] {
		case "panic serving request":
			panicLine = l
		case "http request":
			accessLine = l
		}
	}
	if panicLine == nil || !strings.Contains(fmt.Sprint(panicLine["panic"]), "kaboom-detail") ||
		!strings.Contains(fmt.Sprint(panicLine["stack"]), "middleware_test.go") || panicLine["req_id"] != b.ReqID {
		t.Errorf("panic log line = %v", panicLine)
	}
	if accessLine == nil || accessLine["status"] != 500.0 {
		t.Errorf("access log line = %v, want status 500", accessLine)
	}

	// A panic after the response started cannot become a 500: the response is cut short.
	if resp, err := http.Get(srv.URL + "/late"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Error("a response that panicked half-way was read without error")
		}
	}
	if !strings.Contains(buf.String(), "late boom") {
		t.Errorf("late panic not logged:\n%s", buf)
	}

	resp, err = http.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "fine" {
		t.Errorf("after a panic: %d %q", resp.StatusCode, body)
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"198.51.100.4", "198.51.100.4"},
		{"not an address", "invalid IP"},
		{"", "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if got := httpserver.ClientIP(r).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
			var inside string
			h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inside = httpserver.ClientIP(r).String()
			}), httpserver.Options{Log: slog.New(slog.DiscardHandler)})
			h.ServeHTTP(httptest.NewRecorder(), r)
			if inside != tt.want {
				t.Errorf("ClientIP in the middleware = %s, want %s", inside, tt.want)
			}
		})
	}
}

func TestFlushThroughMiddleware(t *testing.T) {
	h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a")
		if f, ok := w.(http.Flusher); !ok {
			t.Error("the middleware's writer is not an http.Flusher")
		} else {
			f.Flush()
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	}), httpserver.Options{Log: slog.New(slog.DiscardHandler)})
	if rec := serve(h, "GET", "/", nil); !rec.Flushed || rec.Body.String() != "a" {
		t.Errorf("flushed = %v, body %q", rec.Flushed, rec.Body)
	}
}
