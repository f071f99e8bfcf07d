package testenv

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLocalKMS starts two local-kms instances and checks each answers a KMS call on its own
// port. scripts/test-deps.sh runs it to build local-kms before the other tests need it.
func TestLocalKMS(t *testing.T) {
	a, b := LocalKMS(t), LocalKMS(t)
	if a.URL == b.URL {
		t.Fatalf("two instances share %s", a.URL)
	}
	for _, k := range []*KMS{a, b} {
		// local-kms does not check signatures, so a bare JSON 1.1 request will do.
		req, err := http.NewRequest(http.MethodPost, k.URL, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("ListKeys at %s: %v", k.URL, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Keys"`) {
			t.Fatalf("ListKeys at %s: %d %s", k.URL, resp.StatusCode, body)
		}
	}
}
