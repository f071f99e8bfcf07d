package coffer

import (
	"context"
	"net/netip"
)

// ActorKind tells a person from a machine.
type ActorKind string

// Actor kinds.
const (
	ActorUser     ActorKind = "user"
	ActorIdentity ActorKind = "identity"
)

// Actor is who makes a request: authenticated by the HTTP layer, authorized by the services.
type Actor struct {
	Kind      ActorKind
	ID        string
	OrgID     string
	TokenID   string
	IP        netip.Addr
	UserAgent string
}

type actorKey struct{}

// NewContextWithActor returns a context carrying the actor of the request.
func NewContextWithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the request's actor, or nil when the request is anonymous.
func ActorFromContext(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
