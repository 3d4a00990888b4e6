package redisstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// An index entry is the session's store key and the time the entry was
// written: key "@" Unix ms. Create writes the entry before the session, so
// for a moment an entry names a session that does not exist yet; clean-up
// therefore removes an entry whose session is missing only once it is older
// than indexGrace, longer than any Create takes (store calls time out well
// before), and never the entry of a session being created. Entries written
// before this format (no "@") count as old.
const indexGrace = 30 * time.Second

func memberFor(key string, at time.Time) string {
	return key + "@" + strconv.FormatInt(at.UnixMilli(), 10)
}

func parseMember(m string) (key string, writtenMS int64) {
	k, at, ok := strings.Cut(m, "@")
	if !ok {
		return m, 0
	}
	n, _ := strconv.ParseInt(at, 10, 64)
	return k, n
}

// stale reports whether an entry whose session is missing may be removed.
func stale(member string, now time.Time) bool {
	_, at := parseMember(member)
	return at < now.Add(-indexGrace).UnixMilli()
}

// ListUser implements [tether.UserIndex]: one read of the user's index, then
// one pipelined read of its sessions (grouped by node on a Cluster). Entries
// whose session is gone are removed from the index on the way.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	idx := s.indexKey(userID)
	members, err := s.be.zrangeAbove(ctx, idx, unixms.From(now))
	if err != nil {
		return nil, s.fail("list user", err)
	}
	out := make(map[string]*tether.Record, len(members))
	if len(members) == 0 {
		return out, nil
	}
	keys := make([]string, len(members))
	for i, m := range members {
		key, _ := parseMember(m)
		keys[i] = s.sessionKey(key)
	}
	vals, errs, err := s.be.get(ctx, keys)
	if err != nil {
		return nil, s.fail("list user", err)
	}
	var gone []string
	wall := time.Now()
	for i, m := range members {
		v, err := vals[i], errs[i]
		switch {
		case err == errNil, isWrongType(err):
			// Gone, or not a session of this format: nothing to list.
			if stale(m, wall) {
				gone = append(gone, m)
			}
			continue
		case err != nil:
			return nil, s.fail("list user", err)
		}
		rec, err := decodeRecord(v)
		if err != nil {
			// Not a usable session (Load of it fails too): leave it out,
			// rather than let one damaged value fail the user's listing, and
			// with it "log out other devices", the session cap at login and
			// role changes. DeleteUser still deletes it.
			continue
		}
		if rec.UserID != userID {
			continue
		}
		if expired, _ := rec.ExpiredAt(now); expired {
			continue
		}
		key, _ := parseMember(m)
		out[key] = rec
	}
	if len(gone) > 0 {
		// Best effort: a failure leaves entries that point at nothing.
		_ = s.be.zrem(ctx, idx, gone)
	}
	return out, nil
}

// deleteUserRounds bounds DeleteUser's listings.
const deleteUserRounds = 8

// DeleteUser implements [tether.UserIndex]: it deletes every session listed
// in the user's index and removes those entries, then lists the index again
// and repeats while new entries appear. The index and the sessions live in
// different Cluster slots, so this is not one atomic step; the repetition
// catches a session that a rotation created meanwhile (a rotation whose old
// record is deleted here ends its new one itself: see tether's
// commitRegenerate). An entry whose session is missing but was written
// within indexGrace is left in place: it may be a session being created.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	idx := s.indexKey(userID)
	seen := map[string]bool{}
	n := 0
	for range deleteUserRounds {
		members, err := s.be.zrangeAll(ctx, idx)
		if err != nil {
			return n, s.fail("delete user", err)
		}
		fresh := members[:0]
		for _, m := range members {
			if !seen[m] {
				seen[m] = true
				fresh = append(fresh, m)
			}
		}
		if len(fresh) == 0 {
			return n, nil
		}
		keys := make([]string, len(fresh))
		for i, m := range fresh {
			key, _ := parseMember(m)
			keys[i] = s.sessionKey(key)
		}
		deletedN, err := s.be.unlink(ctx, keys)
		for _, k := range keys {
			s.wrote(k)
		}
		if err != nil {
			return n, s.fail("delete user", err)
		}
		wall := time.Now()
		var rem []string
		for i, m := range fresh {
			deleted := deletedN[i]
			n += int(deleted)
			if deleted > 0 || stale(m, wall) {
				rem = append(rem, m)
			}
		}
		if len(rem) > 0 {
			if err := s.be.zrem(ctx, idx, rem); err != nil {
				return n, s.fail("delete user", err)
			}
		}
	}
	return n, nil
}
