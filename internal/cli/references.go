package cli

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/rootcreds"
)

// resolveTimeout bounds the AWS calls that resolve references at start.
const resolveTimeout = time.Minute

// resolveReferences replaces the secret settings given as references (ssm:, secretsmanager:,
// file:) by their values. The AWS SDK is loaded only when an ssm: or secretsmanager:
// reference needs it: with none, nothing is called and no credentials are looked up.
func resolveReferences(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	refs := cfg.References()
	if len(refs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	var r config.Resolver
	if cfg.NeedsResolver() {
		r = &rootcreds.AWS{}
	}
	if err := cfg.Resolve(ctx, r); err != nil {
		return err
	}
	var names []string
	for env, ref := range refs {
		names = append(names, env+"="+ref.String()) // a reference is where a secret is, not the secret
	}
	slices.Sort(names)
	log.Info("read secret settings from their references", "settings", names)
	return nil
}
