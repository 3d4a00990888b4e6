package tether

import (
	"context"
	"errors"
	"time"
)

// TEMPORARY until Patch.Expect lands (not for commit).
func needsCAS(p *Patch) bool             { return len(p.Incr) > 0 }
func expects(p *Patch, name string) bool { return false }
func (e *encStore) updateCAS(ctx context.Context, key string, now time.Time, p *Patch) (*Record, error) {
	return nil, errors.New("tether: encrypted Incr needs Patch.Expect")
}
