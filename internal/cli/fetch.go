package cli

import (
	"context"
	"sort"

	"github.com/cofferhq/coffer/client"
)

// fetchOptions say how to read a folder's secrets; the defaults are those of Infisical's CLI.
type fetchOptions struct {
	recursive      bool
	expand         bool
	includeImports bool
	etag           string // If-None-Match; a match is client.ErrNotModified
}

// fetchSecrets reads the secrets of a folder as the secrets commands show them: merged by
// mergeSecrets and sorted by key (byte order), as Infisical prints them.
func fetchSecrets(ctx context.Context, c *client.Client, sc client.Scope, opt fetchOptions) ([]client.Secret, string, error) {
	res, etag, err := c.ListSecretsConditional(ctx, client.ListSecretsInput{
		ProjectID: sc.ProjectID, Environment: sc.Environment, SecretPath: sc.SecretPath,
		Recursive: opt.recursive, Expand: opt.expand, IncludeImports: opt.includeImports, PersonalOverrides: true,
	}, opt.etag)
	if err != nil {
		return nil, etag, err
	}
	out := mergeSecrets(res)
	sort.SliceStable(out, func(i, j int) bool { return out[i].SecretKey < out[j].SecretKey })
	return out, etag, nil
}

// mergeSecrets flattens a listing the way Infisical's CLI does; run, export and the secrets
// commands all hand out what it returns. The folder's own secrets come first; when a name
// appears twice (a personal override, or --recursive) a personal secret beats a shared one and
// otherwise the first stays. Then the imports, from the last to the first, each add only the
// names not yet present: later imports win over earlier ones, and the folder's own secrets
// over all imports.
func mergeSecrets(raw *client.Secrets) []client.Secret {
	var out []client.Secret
	at := map[string]int{}
	for _, s := range raw.Secrets {
		i, seen := at[s.SecretKey]
		switch {
		case !seen:
			at[s.SecretKey] = len(out)
			out = append(out, s)
		case s.Type == "personal" && out[i].Type != "personal":
			out[i] = s
		}
	}
	for i := len(raw.Imports) - 1; i >= 0; i-- {
		for _, s := range raw.Imports[i].Secrets {
			if _, seen := at[s.SecretKey]; !seen {
				at[s.SecretKey] = len(out)
				out = append(out, s)
			}
		}
	}
	return out
}
