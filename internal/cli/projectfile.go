package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// projectFileName links a directory to a project: written by `coffer init`, read by every
// command from the working directory or the nearest parent that has one. Infisical's
// .infisical.json is read when there is no .coffer.json.
const projectFileName = ".coffer.json"

type projectFile struct {
	ProjectID          string `json:"projectId"`
	DefaultEnvironment string `json:"defaultEnvironment,omitempty"`
	Domain             string `json:"domain,omitempty"`
	path               string
}

// findProjectFile looks for .coffer.json (then .infisical.json) from dir up to the root.
func findProjectFile(dir string) (*projectFile, error) {
	for {
		for _, name := range []string{projectFileName, ".infisical.json"} {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, err
			}
			var raw struct {
				projectFile
				WorkspaceID string `json:"workspaceId"` // .infisical.json
			}
			if err := json.Unmarshal(b, &raw); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			pf := raw.projectFile
			if pf.ProjectID == "" {
				pf.ProjectID = raw.WorkspaceID
			}
			pf.path = p
			return &pf, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}
