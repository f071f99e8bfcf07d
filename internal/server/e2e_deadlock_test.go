package server_test

// End-to-end regression test of the lock order of a project's secret-tree writes on
// PostgreSQL (internal/secrets inProjectTx: project row, then folders, secrets and tags). Before
// it, a secret write locked its folder and then the project row while a folder delete or rename
// (by id, or of the parent) held the project row and then needed the folder, and DeleteTag locked
// the tag and then the project while a tagging write held the project and needed the tag for
// the foreign-key check: PostgreSQL broke the cycle with 40P01 and the user got a 500. Here a
// few seconds of exactly those requests, at once, through the HTTP API, must all be answered
// without a 5xx and without a deadlock in the log. Package-level names start with "dx".

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// dxStorm is how long the requests run; each round of the folder and tag goroutines is short,
// so the storm holds many chances at each cycle (PostgreSQL needs deadlock_timeout, 1 s by
// default, to find one).
const dxStorm = 4 * time.Second

// dxDeadlock finds PostgreSQL's deadlock error in the server's log.
var dxDeadlock = regexp.MustCompile(`(?i)40P01|deadlock`)

// dxTally counts the answers of the storm by operation and status, and keeps the unexpected
// ones (never a value: the error bodies hold none, and the test writes only dummy values).
type dxTally struct {
	mu     sync.Mutex
	counts map[string]int
	bad    []string
}

// note records one answer of op; allowed lists the statuses op may get.
func (x *dxTally) note(op string, status int, body []byte, err error, allowed ...int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		x.counts[op+" error"]++
		x.bad = append(x.bad, fmt.Sprintf("%s: %v", op, err))
		return
	}
	x.counts[fmt.Sprintf("%s %d", op, status)]++
	if !slices.Contains(allowed, status) {
		x.bad = append(x.bad, fmt.Sprintf("%s: status %d: %.300s", op, status, body))
	}
}

// dxDo sends one JSON request; unlike servertest's Do it reports failures instead of calling
// t.Fatal, so it can run on the storm's goroutines.
func dxDo(ctx context.Context, base, method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func TestE2EDxTreeWritesDoNotDeadlock(t *testing.T) {
	e := esStart(t, store.Postgres)
	p := e.project(t)
	P := p.id
	// Hard stop: no request outlives the test by much, whatever the server does.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	x := &dxTally{counts: map[string]int{}}
	do := func(op, method, path string, body any, allowed ...int) (int, []byte) {
		status, data, err := dxDo(ctx, p.n.URL, method, path, p.tok, body)
		x.note(op, status, data, err, allowed...)
		return status, data
	}
	folderID := func(data []byte) string {
		var out struct {
			Folder struct{ ID string } `json:"folder"`
		}
		if json.Unmarshal(data, &out) != nil {
			return ""
		}
		return out.Folder.ID
	}
	tagsURL := "/api/v1/projects/" + P + "/tags"
	var tagID atomic.Value // the id of the tag the writers put on secrets; it is deleted and re-made
	tagID.Store(p.tag(t, "dx-tag").ID)
	p.folder(t, "dev", "/dx", "sub")

	deadline := time.Now().Add(dxStorm)
	var wg sync.WaitGroup
	// Writers, three per folder: each request creates a secret and then updates it, every
	// other one with the tag. The folder (or the tag) may be gone when it runs: 404, which is
	// what a client racing a delete must get. Nothing else is allowed: keys never repeat.
	for g := range 6 {
		path := []string{"/dx", "/dx/sub"}[g%2]
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				key := fmt.Sprintf("DX_%d_%d", g, i)
				extra := []any{"secretValue", "v"}
				if i%2 == 0 {
					extra = append(extra, "tagIds", []string{tagID.Load().(string)})
				}
				if s, _ := do("secret create", http.MethodPost, esV4.key(key), p.scope(esV4, "dev", path, extra...), 200, 404); s != 200 {
					continue
				}
				extra[1] = "w"
				do("secret update", http.MethodPatch, esV4.key(key), p.scope(esV4, "dev", path, extra...), 200, 404)
			}
		})
	}
	// Folders: one goroutine, so each delete or rename finds the folder it names (200 only):
	// make /dx/sub (and /dx), let the writers queue on them, then delete /dx by id, delete /dx
	// by name (the parent of /dx/sub), rename /dx by id and back, or delete /dx/sub by id. Each
	// of the four runs at least once, however slow the machine.
	wg.Go(func() {
		for round := 0; (round < 4 || time.Now().Before(deadline)) && ctx.Err() == nil; round++ {
			_, data := do("folder create", http.MethodPost, "/api/v1/folders", esObj("workspaceId", P, "environment", "dev", "path", "/dx", "name", "sub"), 200)
			sub := folderID(data)
			_, data = do("folder create", http.MethodPost, "/api/v1/folders", esObj("workspaceId", P, "environment", "dev", "path", "/", "name", "dx"), 200)
			dx := folderID(data) // made with sub when missing; this answers it
			if dx == "" || sub == "" {
				return // noted as unexpected already
			}
			time.Sleep(30 * time.Millisecond)
			inRoot := esObj("workspaceId", P, "environment", "dev", "directory", "/")
			switch round % 4 {
			case 0:
				do("folder delete by id", http.MethodDelete, "/api/v1/folders/"+dx, inRoot, 200)
			case 1:
				do("folder delete parent by name", http.MethodDelete, "/api/v1/folders/dx", inRoot, 200)
			case 2:
				do("folder rename by id", http.MethodPatch, "/api/v1/folders/"+dx, esObj("workspaceId", P, "environment", "dev", "path", "/", "name", "dx-renamed"), 200)
				time.Sleep(30 * time.Millisecond)
				do("folder rename by id", http.MethodPatch, "/api/v1/folders/"+dx, esObj("workspaceId", P, "environment", "dev", "path", "/", "name", "dx"), 200)
			case 3:
				do("folder delete by id", http.MethodDelete, "/api/v1/folders/"+sub, esObj("workspaceId", P, "environment", "dev", "directory", "/dx"), 200)
			}
		}
	})
	// Tags: one goroutine deletes the writers' tag and makes it again (200 only: nothing else
	// touches tags).
	wg.Go(func() {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			do("tag delete", http.MethodDelete, tagsURL+"/"+tagID.Load().(string), nil, 200)
			s, data := do("tag create", http.MethodPost, tagsURL, esObj("slug", "dx-tag", "color", "#123456"), 200)
			var out struct {
				Tag struct{ ID string } `json:"tag"`
			}
			if s != 200 || json.Unmarshal(data, &out) != nil || out.Tag.ID == "" {
				return // noted as unexpected already
			}
			tagID.Store(out.Tag.ID)
		}
	})
	wg.Wait()

	var summary []string
	for k, v := range x.counts {
		summary = append(summary, fmt.Sprintf("%s: %d", k, v))
	}
	slices.Sort(summary)
	t.Logf("answers:\n%s", strings.Join(summary, "\n"))
	for i, b := range x.bad {
		if i == 20 {
			t.Errorf("… and %d more unexpected answers", len(x.bad)-i)
			break
		}
		t.Errorf("unexpected answer: %s", b)
	}
	// The storm must have raced what it means to: every kind of write succeeded at least once.
	for _, op := range []string{"secret create 200", "secret update 200", "secret create 404", "folder delete by id 200",
		"folder delete parent by name 200", "folder rename by id 200", "tag delete 200"} {
		if x.counts[op] == 0 {
			t.Errorf("no %q in the storm: it did not test what it should", op)
		}
	}
	if logs := p.n.Logs(); dxDeadlock.MatchString(logs) {
		i := dxDeadlock.FindStringIndex(logs)[0]
		t.Errorf("the server logged a deadlock: …%s…", logs[max(i-200, 0):min(i+200, len(logs))])
	}
	// The project still takes writes.
	p.put(t, "dev", "/", "DX_AFTER", "after")
}

// A write holds the project's lock while it loads the project's keys and names its actor for
// the audit log; if those reads took a second connection, writers queued behind the lock
// could hold every connection of the pool and wait for each other until a statement timeout.
// With a pool of 2, on a node that has not loaded the project's keys yet, concurrent writes
// must all succeed.
func TestE2EDxWritesOnASmallPool(t *testing.T) {
	t.Parallel()
	small := func(c *config.Config) { c.DatabaseMaxConns, c.DatabaseStatementTimeout = 2, 5*time.Second }
	n := servertest.StartWith(t, store.Postgres, small)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "small-pool", coffer.RoleMember)
	fresh := n.StartPeer(t) // the same settings; its keyring and name cache are empty
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				body, _ := json.Marshal(map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/", "secretValue": "v"})
				req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v4/secrets/SMALL_%d_%d", fresh.URL, w, i), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+p.Token)
				req.Header.Set("Content-Type", "application/json")
				res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs <- fmt.Sprintf("writer %d write %d: %d %s", w, i, res.StatusCode, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
