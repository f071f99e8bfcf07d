package servertest_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func TestNodeStartsAndSetsUp(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "web", "member")
		r := n.Do(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", p.Token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
	})
}
