package tether

import (
	"context"
	"net/http"
)

// freshReadKey marks a context whose session read must come from the
// store's authority (see WithFreshRead).
type freshReadKey struct{}

// WithFreshRead returns a context that asks the Store for a fresh read: a
// store that can serve [Store.Load] from a local cache (redisstore on
// rueidis, with its client-side cache) reads the record from the shared
// store instead. The [Manager] sets it on every Load of a request whose
// method is not GET or HEAD (unsafe methods) and of a request for which
// [Config.FreshRead] reports true (sensitive routes), so that a revocation
// or a change made elsewhere is never hidden from them by a cached copy.
// Stores without a cache ignore it.
func WithFreshRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshReadKey{}, true)
}

// FreshRead reports whether ctx asks for a fresh read (see WithFreshRead).
func FreshRead(ctx context.Context) bool {
	v, _ := ctx.Value(freshReadKey{}).(bool)
	return v
}

// needsFreshRead reports whether the Manager reads r's session fresh: an
// unsafe method, or Config.FreshRead says so.
func (c *Config) needsFreshRead(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	return c.FreshRead != nil && c.FreshRead(r)
}
