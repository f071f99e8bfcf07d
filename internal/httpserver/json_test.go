package httpserver_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

type createReq struct {
	Name    string `json:"name"`
	Count   int    `json:"count"`
	Secrets []struct {
		SecretKey string `json:"secretKey"`
	} `json:"secrets"`
	Meta struct {
		Enabled bool `json:"enabled"`
	} `json:"meta"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		message []string // substrings the message must contain
		never   []string // substrings it must not contain (body content)
	}{
		{"valid", `{"name":"a","count":2,"secrets":[{"secretKey":"K"}]}`, 200, nil, nil},
		{"unknown fields ignored", `{"name":"a","workspaceId":"w","extra":{"x":[1]}}`, 200, nil, nil},
		{"surrounding whitespace", " \n{\"name\":\"a\"}\n ", 200, nil, nil},
		{"empty", ``, 422, []string{"request body is required"}, nil},
		{"whitespace only", " \r\n\t", 422, []string{"request body is required"}, nil},
		{"truncated", `{"name":`, 400, []string{"malformed JSON", "unexpected end", "offset 8"}, nil},
		{"bad character", `{"name": Zsecret}`, 400, []string{"malformed JSON", "invalid character", "offset 9"}, []string{"Z", "secret"}},
		{"not JSON at all", `Zsecret=1`, 400, []string{"malformed JSON", "offset 0"}, []string{"Z", "secret"}},
		{"wrong type", `{"name": 12345}`, 422, []string{"name: expected string, got number"}, []string{"12345"}},
		{"wrong type bool", `{"meta": {"enabled": "yes"}}`, 422, []string{"meta.enabled", "expected boolean, got string"}, []string{"yes"}},
		{"nested wrong type", `{"secrets":[{"secretKey": 98765}]}`, 422, []string{"secretKey", "expected string, got number"}, []string{"98765"}},
		{"array for object", `{"secrets":{"secretKey":"K"}}`, 422, []string{"secrets: expected array, got object"}, nil},
		{"array body", `[{"name":"a"}]`, 422, []string{"request body must be a JSON object"}, nil},
		{"string body", `"a"`, 422, []string{"request body must be a JSON object"}, nil},
		{"null body", `null`, 422, []string{"request body must be a JSON object"}, nil},
		{"trailing garbage", `{"name":"a"} Zsecret`, 400, []string{"malformed JSON", "after the object"}, []string{"Z", "secret"}},
		{"two objects", `{"name":"a"}{"name":"b"}`, 400, []string{"malformed JSON", "after the object"}, nil},
		{"oversized", `{"name":"` + strings.Repeat("a", 100) + `"}`, 413, []string{"request body is larger than 64 bytes"}, nil},
	}
	log, _ := newLogger(slog.LevelInfo)
	a := httpserver.Adapter{Log: log}
	h := httpserver.Wrap(a.H(func(w http.ResponseWriter, r *http.Request) error {
		var req createReq
		if err := httpserver.DecodeJSON(r, &req); err != nil {
			return err
		}
		httpserver.WriteJSON(w, r, http.StatusOK, req)
		return nil
	}), httpserver.Options{Log: log, MaxBodyBytes: 64})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, "POST", "/", strings.NewReader(tt.body))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 {
				return
			}
			b := mustErrBody(t, rec)
			for _, s := range tt.message {
				if !strings.Contains(b.Message, s) {
					t.Errorf("message %q lacks %q", b.Message, s)
				}
			}
			for _, s := range tt.never {
				if strings.Contains(b.Message, s) {
					t.Errorf("message %q echoes body content %q", b.Message, s)
				}
			}
		})
	}
}

func TestDecodeJSONDefaultLimit(t *testing.T) {
	body := `{"name":"` + strings.Repeat("a", 4<<20) + `"}`
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	var req createReq
	err := httpserver.DecodeJSON(r, &req)
	if coffer.ErrorCode(err) != coffer.ETOOLARGE || coffer.ErrorMessage(err) != "request body is larger than 4194304 bytes" {
		t.Errorf("err = %v, want ETOOLARGE at 4 MiB", err)
	}
}

func TestDecodeOptionalJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
		code             string
	}{
		{"empty keeps dst", "", "default", ""},
		{"whitespace keeps dst", "  \n", "default", ""},
		{"decodes", `{"name":"given"}`, "given", ""},
		{"still validates", `{"name":1}`, "default", coffer.EVALIDATION},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := createReq{Name: "default"}
			err := httpserver.DecodeOptionalJSON(httptest.NewRequest("DELETE", "/", strings.NewReader(tt.body)), &req)
			if coffer.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if req.Name != tt.want {
				t.Errorf("name = %q, want %q", req.Name, tt.want)
			}
		})
	}
}

func TestDecodeJSONProgrammingError(t *testing.T) {
	var req createReq
	err := httpserver.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(`{}`)), req) // not a pointer
	if coffer.ErrorCode(err) != coffer.EINTERNAL {
		t.Errorf("err = %v, want an internal error", err)
	}
}

func TestWriteJSONETag(t *testing.T) {
	v := map[string]any{"secrets": []string{"a", "b"}}
	first := serve(handlerJSON(v), "GET", "/", nil)
	etag := first.Header().Get("ETag")
	if first.Code != 200 || len(etag) != 34 || etag[0] != '"' || etag[33] != '"' {
		t.Fatalf("first = %d, ETag %q; want 200 and a quoted 32-hex ETag", first.Code, etag)
	}
	if ct := first.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cl := first.Header().Get("Content-Length"); cl != strconv.Itoa(first.Body.Len()) || first.Body.String() != `{"secrets":["a","b"]}`+"\n" {
		t.Errorf("Content-Length = %q, body %d bytes %q", cl, first.Body.Len(), first.Body)
	}
	if again := serve(handlerJSON(v), "GET", "/", nil).Header().Get("ETag"); again != etag {
		t.Errorf("same body, ETag %q then %q", etag, again)
	}
	other := serve(handlerJSON(map[string]any{"secrets": []string{"a"}}), "GET", "/", nil, "If-None-Match", etag)
	if other.Code != 200 || other.Header().Get("ETag") == etag || other.Body.Len() == 0 {
		t.Errorf("different body answered %d, ETag %q", other.Code, other.Header().Get("ETag"))
	}

	weak := "W/" + etag
	tests := []struct {
		name   string
		method string
		inm    []string
		status int
	}{
		{"no header", "GET", nil, 200},
		{"exact", "GET", []string{etag}, 304},
		{"weak", "GET", []string{weak}, 304},
		{"list", "GET", []string{`"aaa", ` + weak + `, "bbb"`}, 304},
		{"list no spaces", "GET", []string{`"aaa",` + etag}, 304},
		{"repeated header", "GET", []string{`"aaa"`, etag}, 304},
		{"star", "GET", []string{"*"}, 304},
		{"other", "GET", []string{`"0123"`, `W/"4567"`}, 200},
		{"unquoted", "GET", []string{strings.Trim(etag, `"`)}, 200},
		{"head", "HEAD", []string{etag}, 304},
		{"post never", "POST", []string{etag}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/", nil)
			for _, h := range tt.inm {
				r.Header.Add("If-None-Match", h)
			}
			rec := httptest.NewRecorder()
			handlerJSON(v).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 304 && (rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag) {
				t.Errorf("304 with body %q, ETag %q", rec.Body, rec.Header().Get("ETag"))
			}
			if tt.method == "POST" && rec.Header().Get("ETag") != "" {
				t.Errorf("POST got an ETag")
			}
		})
	}
	if rec := serve(statusJSON(201, v), "GET", "/", nil, "If-None-Match", "*"); rec.Code != 201 || rec.Header().Get("ETag") != "" {
		t.Errorf("201 answered %d with ETag %q; want no ETag", rec.Code, rec.Header().Get("ETag"))
	}
}

func handlerJSON(v any) http.Handler { return statusJSON(http.StatusOK, v) }

func statusJSON(status int, v any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpserver.WriteJSON(w, r, status, v) })
}

func TestWriteJSONUnencodable(t *testing.T) {
	rec := serve(handlerJSON(map[string]any{"f": func() {}}), "GET", "/", nil)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "InternalServerError") {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}
