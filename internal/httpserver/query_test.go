package httpserver_test

import (
	"net/http/httptest"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

func TestQueryBool(t *testing.T) {
	tests := []struct {
		query   string
		def     bool
		want    bool
		wantErr string
	}{
		{"", true, true, ""},
		{"recursive=", true, true, ""},
		{"recursive=", false, false, ""},
		{"recursive=true", false, true, ""},
		{"recursive=false", true, false, ""},
		{"recursive=1", false, false, "recursive: must be true or false"},
		{"recursive=True", false, false, "recursive: must be true or false"},
		{"recursive=yes", false, false, "recursive: must be true or false"},
		{"include_imports=true", false, true, ""},
		{"includeImports=&include_imports=true", false, true, ""},
		{"includeImports=false&include_imports=true", true, false, ""},
		{"include_imports=TRUE", false, false, "include_imports: must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := httpserver.NewQuery(httptest.NewRequest("GET", "/?"+tt.query, nil))
			got, err := q.Bool(tt.def, "recursive", "includeImports", "include_imports")
			if tt.wantErr != "" {
				if coffer.ErrorCode(err) != coffer.EVALIDATION || coffer.ErrorMessage(err) != tt.wantErr {
					t.Errorf("err = %v, want EVALIDATION %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Bool = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestQueryIntString(t *testing.T) {
	q := httpserver.NewQuery(httptest.NewRequest("GET", "/?limit=25&offset=x&workspaceSlug=&workspaceId=w1&secretPath=%2Fapp", nil))
	if n, err := q.Int(100, "limit"); n != 25 || err != nil {
		t.Errorf("Int(limit) = %d, %v", n, err)
	}
	if n, err := q.Int(100, "missing"); n != 100 || err != nil {
		t.Errorf("Int(missing) = %d, %v", n, err)
	}
	if _, err := q.Int(0, "offset"); coffer.ErrorCode(err) != coffer.EVALIDATION || coffer.ErrorMessage(err) != "offset: must be an integer" {
		t.Errorf("Int(offset) err = %v", err)
	}
	if s := q.String("workspaceSlug", "workspaceId"); s != "w1" {
		t.Errorf("String = %q, want the first non-empty alias", s)
	}
	if s := q.String("secretPath"); s != "/app" {
		t.Errorf("String(secretPath) = %q", s)
	}
	if s := q.String("workspaceSlug"); s != "" {
		t.Errorf("empty value = %q, want absent", s)
	}
}
