// Command gosdk drives Infisical's Go SDK (github.com/infisical/go-sdk) for Coffer's
// compatibility tests. It reads one JSON request per line on stdin, {"op": ..., "args": {...}},
// makes exactly one SDK call for it, and answers one JSON line on stdout:
// {"result": <what the SDK returned>} or {"error": "...", "status": <HTTP status or 0>}.
// It holds no logic of its own: whatever the SDK does with the server's answers (merging
// imports, sorting, deduplicating) is what the tests see.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	infisical "github.com/infisical/go-sdk"
)

// args is the union of the arguments of every op, named like the Node SDK's options.
type args struct {
	SiteURL      string `json:"siteUrl"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`

	ProjectID              string `json:"projectId"`
	Environment            string `json:"environment"`
	SecretPath             string `json:"secretPath"`
	SecretKey              string `json:"secretKey"`
	SecretValue            string `json:"secretValue"`
	SecretComment          string `json:"secretComment"`
	Type                   string `json:"type"`
	Version                int    `json:"version"`
	SkipMultilineEncoding  bool   `json:"skipMultilineEncoding"`
	ExpandSecretReferences bool   `json:"expandSecretReferences"`
	IncludeImports         bool   `json:"includeImports"`
	Recursive              bool   `json:"recursive"`
	SkipUniqueValidation   bool   `json:"skipUniqueValidation"`
	IfNoneMatch            string `json:"ifNoneMatch"`

	Secrets []infisical.BatchCreateSecret `json:"secrets"`

	Path       string `json:"path"`
	Name       string `json:"name"`
	FolderID   string `json:"folderId"`
	FolderName string `json:"folderName"`
}

type request struct {
	Op   string `json:"op"`
	Args args   `json:"args"`
}

type response struct {
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

func main() {
	var client infisical.InfisicalClientInterface
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var res response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = "driver: bad request: " + err.Error()
		} else {
			if req.Op == "new" {
				client = infisical.NewInfisicalClient(context.Background(), infisical.Config{SiteUrl: req.Args.SiteURL, SilentMode: true})
			}
			if client == nil {
				res.Error = "driver: no client: send op new first"
			} else {
				var err error
				res.Result, err = call(client, req.Op, req.Args)
				if err != nil {
					res.Error = err.Error()
					var apiErr *infisical.APIError
					if errors.As(err, &apiErr) {
						res.Status = apiErr.StatusCode
					}
					var notModified *infisical.NotModifiedError
					if errors.As(err, &notModified) {
						res.Status = 304
					}
				}
			}
		}
		if err := out.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// call makes the one SDK call that op names.
func call(c infisical.InfisicalClientInterface, op string, a args) (any, error) {
	switch op {
	case "new":
		return true, nil
	case "universalAuthLogin":
		return c.Auth().UniversalAuthLogin(a.ClientID, a.ClientSecret)
	case "revokeAccessToken":
		return true, c.Auth().RevokeAccessToken()
	case "listSecrets":
		return c.Secrets().ListSecrets(infisical.ListSecretsOptions{
			ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath,
			ExpandSecretReferences: a.ExpandSecretReferences, IncludeImports: a.IncludeImports,
			Recursive: a.Recursive, SkipUniqueValidation: a.SkipUniqueValidation, IfNoneMatch: a.IfNoneMatch,
		})
	case "retrieveSecret":
		return c.Secrets().Retrieve(infisical.RetrieveSecretOptions{
			SecretKey: a.SecretKey, ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath,
			Type: a.Type, Version: a.Version, IncludeImports: a.IncludeImports, ExpandSecretReferences: a.ExpandSecretReferences,
		})
	case "createSecret":
		return c.Secrets().Create(infisical.CreateSecretOptions{
			SecretKey: a.SecretKey, ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath,
			Type: a.Type, SecretComment: a.SecretComment, SkipMultiLineEncoding: a.SkipMultilineEncoding, SecretValue: a.SecretValue,
		})
	case "updateSecret":
		return c.Secrets().Update(infisical.UpdateSecretOptions{
			SecretKey: a.SecretKey, ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath,
			Type: a.Type, NewSecretValue: a.SecretValue, NewSkipMultilineEncoding: a.SkipMultilineEncoding,
		})
	case "deleteSecret":
		return c.Secrets().Delete(infisical.DeleteSecretOptions{
			SecretKey: a.SecretKey, ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath, Type: a.Type,
		})
	case "batchCreateSecrets":
		return c.Secrets().Batch().Create(infisical.BatchCreateSecretsOptions{
			ProjectID: a.ProjectID, Environment: a.Environment, SecretPath: a.SecretPath, Secrets: a.Secrets,
		})
	case "listFolders":
		return c.Folders().List(infisical.ListFoldersOptions{ProjectID: a.ProjectID, Environment: a.Environment, Path: a.Path})
	case "createFolder":
		return c.Folders().Create(infisical.CreateFolderOptions{ProjectID: a.ProjectID, Environment: a.Environment, Path: a.Path, Name: a.Name})
	case "updateFolder":
		return c.Folders().Update(infisical.UpdateFolderOptions{FolderID: a.FolderID, ProjectID: a.ProjectID, Environment: a.Environment, Path: a.Path, NewName: a.Name})
	case "deleteFolder":
		return c.Folders().Delete(infisical.DeleteFolderOptions{FolderID: a.FolderID, FolderName: a.FolderName, ProjectID: a.ProjectID, Environment: a.Environment, Path: a.Path})
	}
	return nil, fmt.Errorf("driver: unknown op %q", op)
}
