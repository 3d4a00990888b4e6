package tether

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"
)

// SessionInfo describes one of a user's sessions, as [Manager.UserSessions]
// lists them, without anything that could authenticate.
type SessionInfo struct {
	// ID is the session's public ID ([Manager.PublicID] of its store key):
	// safe to show to the user, to put in a URL and to pass back to
	// [Manager.EndUserSessions].
	ID string
	// CreatedAt is when the session's current token was created (at login,
	// or at its last rotation).
	CreatedAt time.Time
	// AuthenticatedAt is the time of the last login or re-authentication.
	AuthenticatedAt time.Time
	// IdleDeadline is when the session ends unless a request touches it.
	IdleDeadline time.Time
	// AbsoluteDeadline is when the session ends whatever happens.
	AbsoluteDeadline time.Time
	// Values are the session's values, JSON-encoded, as the application
	// stored them (a device's user agent or last-seen time, say). The
	// caller must not modify them.
	Values map[string]json.RawMessage
}

// UserSessions lists the live sessions of userID, oldest first. It needs a
// Store that implements [UserIndex] and costs O(sessions of the user).
func (m *Manager) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	idx, ok := m.cfg.Store.(UserIndex)
	if !ok {
		return nil, ErrNoUserIndex
	}
	cctx, cancel := m.cfg.storeCtx(ctx)
	defer cancel()
	recs, err := idx.ListUser(cctx, userID, m.cfg.Now())
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]SessionInfo, 0, len(recs))
	for key, r := range recs {
		out = append(out, SessionInfo{ID: m.PublicID(key), CreatedAt: r.CreatedAt, AuthenticatedAt: r.AuthenticatedAt,
			IdleDeadline: r.IdleDeadline, AbsoluteDeadline: r.AbsoluteDeadline, Values: r.Values})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// EndUserSessions ends the sessions of userID whose IDs are listed (all of
// them when ids is empty) and returns how many it ended. Unknown IDs are
// ignored, so a user can only end their own sessions through it.
func (m *Manager) EndUserSessions(ctx context.Context, userID string, ids ...string) (int, error) {
	idx, ok := m.cfg.Store.(UserIndex)
	if !ok {
		return 0, ErrNoUserIndex
	}
	cctx, cancel := m.cfg.storeCtx(ctx)
	defer cancel()
	if len(ids) == 0 {
		n, err := idx.DeleteUser(cctx, userID)
		if err != nil {
			return n, storeErr(err)
		}
		return n, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	recs, err := idx.ListUser(cctx, userID, m.cfg.Now())
	if err != nil {
		return 0, storeErr(err)
	}
	n := 0
	for key := range recs {
		if !want[m.PublicID(key)] {
			continue
		}
		if err := m.cfg.Store.Delete(cctx, key); err != nil {
			return n, storeErr(err)
		}
		n++
	}
	return n, nil
}

// SetUserSessions sets key to v (JSON-encoded) in every live session of
// userID and returns how many it changed. Each change applies only while
// that session exists, so it never brings back one that ended meanwhile.
// Use it to reach a user's sessions from outside their requests: an admin
// tool flags them so the application re-reads the account at the next
// request (a role change, say) instead of waiting for its periodic check.
//
// A session that rotates its token while this runs (a login, Regenerate)
// copies its values into a new record that the first listing may not hold,
// so the listing is repeated until it shows no record not yet changed (at
// most setUserRounds times).
func (m *Manager) SetUserSessions(ctx context.Context, userID, key string, v any) (int, error) {
	idx, ok := m.cfg.Store.(UserIndex)
	if !ok {
		return 0, ErrNoUserIndex
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	cctx, cancel := m.cfg.storeCtx(ctx)
	defer cancel()
	done := map[string]bool{}
	n := 0
	for range setUserRounds {
		now := m.cfg.Now()
		recs, err := idx.ListUser(cctx, userID, now)
		if err != nil {
			return n, storeErr(err)
		}
		fresh := false
		for k := range recs {
			if done[k] {
				continue
			}
			done[k], fresh = true, true
			_, err := m.cfg.Store.Update(cctx, k, now, &Patch{Set: map[string]json.RawMessage{key: raw}})
			switch {
			case errors.Is(err, ErrNotFound): // ended meanwhile
			case err != nil:
				return n, storeErr(err)
			default:
				n++
			}
		}
		if !fresh {
			break
		}
	}
	return n, nil
}

// setUserRounds bounds SetUserSessions's listings.
const setUserRounds = 8

// EndOtherSessions deletes every other live session of this session's user
// (other devices), leaving this one, and returns how many it ended. It needs
// a Store that implements [UserIndex]; the cost is O(sessions of the user).
// Use it after a password change (ASVS 7.4.3), typically with Regenerate.
func (s *Session) EndOtherSessions(ctx context.Context) (int, error) {
	s.mu.Lock()
	s.loadLocked()
	uid, key, loadErr := "", s.key, s.loadErr
	if s.rec != nil && s.exists {
		uid = s.rec.UserID
	}
	s.mu.Unlock()
	if loadErr != nil {
		return 0, loadErr
	}
	if uid == "" {
		return 0, ErrNotAuthenticated
	}
	idx, ok := s.m.cfg.Store.(UserIndex)
	if !ok {
		return 0, ErrNoUserIndex
	}
	cctx, cancel := s.m.cfg.storeCtx(ctx)
	defer cancel()
	list, err := idx.ListUser(cctx, uid, s.m.cfg.Now())
	if err != nil {
		return 0, storeErr(err)
	}
	n := 0
	for k := range list {
		if k == key {
			continue
		}
		if err := s.m.cfg.Store.Delete(cctx, k); err != nil {
			return n, storeErr(err)
		}
		n++
	}
	return n, nil
}
