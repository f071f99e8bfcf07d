package secrets

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// resolver expands secret references, ${KEY} and ${env.path.to.KEY}, on the server: a
// reference without dots names a key of the same environment and folder; with dots, the first
// part is an environment slug, the last a key, and the parts between a folder path. Nested
// references resolve relative to the secret that holds them. A missing reference, a cycle or
// nesting deeper than coffer.MaxReferenceDepth is an error naming the secret and reference.
type resolver struct {
	s       *Service
	r       reader
	grant   *authz.Grant
	folders map[string]map[string]*coffer.Secret // "env\x00path" → shared secrets by key
	memo    map[string]expansion                 // reference id → expanded value
}

type expansion struct {
	value  string
	height int // levels of references below this value
}

func newResolver(s *Service, r reader, g *authz.Grant) *resolver {
	return &resolver{s: s, r: r, grant: g, folders: map[string]map[string]*coffer.Secret{}, memo: map[string]expansion{}}
}

func folderKey(env, path string) string { return env + "\x00" + path }

// seed records the complete set of shared secrets of a folder already loaded by the caller.
func (rv *resolver) seed(env, path string, secrets []*coffer.Secret) {
	m := make(map[string]*coffer.Secret, len(secrets))
	for _, sec := range secrets {
		if sec.Type == coffer.SecretShared {
			m[sec.Key] = sec
		}
	}
	rv.folders[folderKey(env, path)] = m
}

// folder returns the shared secrets of env/path (empty when the folder does not exist), or
// nil when the environment does not exist.
func (rv *resolver) folder(ctx context.Context, envSlug, path string) (map[string]*coffer.Secret, error) {
	if m, ok := rv.folders[folderKey(envSlug, path)]; ok {
		return m, nil
	}
	env, ok := rv.grant.Project.Environment(envSlug)
	if !ok {
		return nil, nil
	}
	m := map[string]*coffer.Secret{}
	f, err := rv.r.FindFolderByPath(ctx, env.ID, path)
	if err == nil {
		sealed, err := rv.r.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.ID}, Type: coffer.SecretShared})
		if err != nil {
			return nil, err
		}
		opened, err := rv.s.openAll(ctx, sealed)
		if err != nil {
			return nil, err
		}
		for _, sec := range opened {
			m[sec.Key] = sec
		}
	} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return nil, err
	}
	rv.folders[folderKey(envSlug, path)] = m
	return m, nil
}

// expand returns the value of sec with every reference replaced.
func (rv *resolver) expand(ctx context.Context, sec *coffer.Secret) (string, error) {
	v := sec.Value.Reveal()
	if !strings.Contains(v, "${") {
		return v, nil
	}
	out, _, err := rv.expandValue(ctx, sec.Key, v, sec.Environment, sec.Path, []string{refID(sec.Environment, sec.Path, sec.Key)})
	return out, err
}

func refID(env, path, key string) string { return env + ":" + path + ":" + key }

// parseRef splits a reference body into environment, path and key.
func parseRef(body, env, path string) (string, string, string) {
	parts := strings.Split(body, ".")
	if len(parts) == 1 {
		return env, path, body
	}
	p := "/" + strings.Join(parts[1:len(parts)-1], "/")
	return parts[0], p, parts[len(parts)-1]
}

func isRefBody(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// expandValue replaces the references in val, which belongs to holder at env/path; chain is
// the path of reference ids that led here. It returns the expanded value and its height.
func (rv *resolver) expandValue(ctx context.Context, holder, val, env, path string, chain []string) (string, int, error) {
	var b strings.Builder
	height := 0
	for {
		i := strings.Index(val, "${")
		if i < 0 {
			b.WriteString(val)
			break
		}
		j := strings.IndexByte(val[i+2:], '}')
		if j < 0 || !isRefBody(val[i+2:i+2+j]) {
			b.WriteString(val[:i+2]) // not a reference: keep the text as it is
			val = val[i+2:]
			continue
		}
		body := val[i+2 : i+2+j]
		b.WriteString(val[:i])
		val = val[i+2+j+1:]

		e, p, k := parseRef(body, env, path)
		id := refID(e, p, k)
		for _, c := range chain {
			if c == id {
				return "", 0, coffer.Errorf(coffer.EINVALID, "secret %s: reference ${%s} makes a cycle: %s -> %s", holder, body, strings.Join(chain, " -> "), id)
			}
		}
		if m, ok := rv.memo[id]; ok {
			if len(chain)+m.height > coffer.MaxReferenceDepth {
				return "", 0, depthError(holder, body)
			}
			b.WriteString(m.value)
			height = max(height, m.height+1)
			continue
		}
		if len(chain) > coffer.MaxReferenceDepth {
			return "", 0, depthError(holder, body)
		}
		if _, err := coffer.CleanPath("reference", p); err != nil || p != mustClean(p) {
			return "", 0, coffer.Errorf(coffer.EINVALID, "secret %s: reference ${%s} has an invalid path", holder, body)
		}
		if err := rv.grant.Require(authz.Read, authz.Secrets, e, p); err != nil {
			return "", 0, coffer.Errorf(coffer.EFORBIDDEN, "secret %s: reference ${%s}: you are not allowed to read secrets in environment %s at path %s", holder, body, e, p)
		}
		secrets, err := rv.folder(ctx, e, p)
		if err != nil {
			return "", 0, err
		}
		if secrets == nil {
			return "", 0, coffer.Errorf(coffer.EINVALID, "secret %s: reference ${%s}: environment '%s' not found", holder, body, e)
		}
		target, ok := secrets[k]
		if !ok {
			return "", 0, coffer.Errorf(coffer.EINVALID, "secret %s: reference ${%s}: secret %s not found in environment '%s' at path %s", holder, body, k, e, p)
		}
		v, h, err := rv.expandValue(ctx, holder, target.Value.Reveal(), e, p, append(chain[:len(chain):len(chain)], id))
		if err != nil {
			return "", 0, err
		}
		rv.memo[id] = expansion{value: v, height: h}
		b.WriteString(v)
		height = max(height, h+1)
	}
	return b.String(), height, nil
}

func depthError(holder, body string) error {
	return coffer.Errorf(coffer.EINVALID, "secret %s: reference ${%s} nests references deeper than %d levels", holder, body, coffer.MaxReferenceDepth)
}

func mustClean(p string) string {
	c, _ := coffer.CleanPath("", p)
	return c
}
