package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
)

// ListUser implements tether.UserIndex: one read of the user's index, then
// one pipelined read of its sessions (grouped by node on a Cluster). Entries
// whose session is gone are removed from the index on the way.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	idx := s.indexKey(userID)
	members, err := s.rdb.ZRangeByScore(ctx, idx, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(ms(now), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, s.fail("list user", err)
	}
	out := make(map[string]*tether.Record, len(members))
	if len(members) == 0 {
		return out, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(members))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range members {
			cmds[i] = p.HGetAll(ctx, s.sessionKey(m))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.fail("list user", err)
	}
	var gone []any
	for i, m := range members {
		h, err := cmds[i].Result()
		if err != nil {
			return nil, s.fail("list user", err)
		}
		if len(h) == 0 {
			gone = append(gone, m)
			continue
		}
		flat := make([]string, 0, 2*len(h))
		for k, v := range h {
			flat = append(flat, k, v)
		}
		rec, err := parse(flat)
		if err != nil {
			return nil, err
		}
		if rec.UserID != userID {
			continue
		}
		if expired, _ := rec.ExpiredAt(now); expired {
			continue
		}
		out[m] = rec
	}
	if len(gone) > 0 {
		// Best effort: a failure leaves entries that point at nothing.
		_ = s.rdb.ZRem(ctx, idx, gone...).Err()
	}
	return out, nil
}

// DeleteUser implements tether.UserIndex: it deletes every session listed
// in the user's index, then removes exactly those entries (a login racing
// with it keeps its fresh entry).
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	idx := s.indexKey(userID)
	members, err := s.rdb.ZRange(ctx, idx, 0, -1).Result()
	if err != nil {
		return 0, s.fail("delete user", err)
	}
	if len(members) == 0 {
		return 0, nil
	}
	cmds := make([]*redis.IntCmd, len(members))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range members {
			cmds[i] = p.Unlink(ctx, s.sessionKey(m))
		}
		return nil
	})
	if err != nil {
		return 0, s.fail("delete user", err)
	}
	n := 0
	rem := make([]any, len(members))
	for i, m := range members {
		n += int(cmds[i].Val())
		rem[i] = m
	}
	if err := s.rdb.ZRem(ctx, idx, rem...).Err(); err != nil {
		return n, s.fail("delete user", err)
	}
	return n, nil
}
