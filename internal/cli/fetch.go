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

// fetchSecrets reads the secrets of a folder as `run`, `export` and `secrets` use them: the
// folder's own secrets (personal overrides applied by the server), then the imported ones
// merged as Infisical's CLI merges them — a key the folder has wins, and among imports a later
// one wins over an earlier one. The result is sorted by key (byte order), as Infisical prints.
func fetchSecrets(ctx context.Context, c *client.Client, sc client.Scope, opt fetchOptions) ([]client.Secret, string, error) {
	res, etag, err := c.ListSecretsConditional(ctx, client.ListSecretsInput{
		ProjectID: sc.ProjectID, Environment: sc.Environment, SecretPath: sc.SecretPath,
		Recursive: opt.recursive, Expand: opt.expand, IncludeImports: opt.includeImports, PersonalOverrides: true,
	}, opt.etag)
	if err != nil {
		return nil, etag, err
	}
	return mergeImports(res.Secrets, res.Imports), etag, nil
}

// mergeImports returns own followed by the imported secrets whose keys are not already
// present, walking the imports from last to first.
func mergeImports(own []client.Secret, imports []client.Import) []client.Secret {
	out := append([]client.Secret(nil), own...)
	seen := make(map[string]bool, len(own))
	for _, s := range own {
		seen[s.SecretKey] = true
	}
	for i := len(imports) - 1; i >= 0; i-- {
		for _, s := range imports[i].Secrets {
			if !seen[s.SecretKey] {
				seen[s.SecretKey] = true
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SecretKey < out[j].SecretKey })
	return out
}
