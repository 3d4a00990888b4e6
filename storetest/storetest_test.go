package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/storetest"
)

// The suite must fail for stores that break the contract. Each broken store
// below is memstore with one bug; TestBrokenStore runs the suite on it in a
// child process (a failing suite cannot run inside a passing test), and
// TestSuiteCatchesBrokenStores checks that the child failed in the subtests
// that guard against that bug.
var broken = map[string]struct {
	store    func() tether.Store
	mustFail []string // subtests of Run that must fail (others may fail too)
}{
	"overwrites on Create": {
		func() tether.Store { return overwriting{memstore.New()} },
		[]string{"CreateExistingKey", "CreateConcurrentSameKey"},
	},
	"ignores Load's idle deadline": {
		func() tether.Store { return noRefresh{memstore.New()} },
		[]string{"LoadMovesIdleDeadline"},
	},
	"extends expired records on Load": {
		func() tether.Store { return extending{memstore.New()} },
		[]string{"LoadExpiredNeverExtends"},
	},
	"resurrects on Update": {
		func() tether.Store { return resurrecting{memstore.New()} },
		[]string{"UpdateNeverCreates", "DeleteRacingUpdates"},
	},
	"loses concurrent updates": {
		func() tether.Store { return lossy{memstore.New()} },
		[]string{"ConcurrentUpdates"},
	},
	"ignores Patch.Expect": {
		func() tether.Store { return unconditional{memstore.New()} },
		[]string{"UpdateExpect", "UpdateExpectConcurrent"},
	},
	"checks Patch.Expect apart from the write": {
		func() tether.Store { return checkThenWrite{memstore.New()} },
		[]string{"UpdateExpectConcurrent"},
	},
	"miscounts DeleteUser": {
		func() tether.Store { return miscounting{memstore.New()} },
		[]string{"DeleteUser"},
	},
}

const brokenEnv = "STORETEST_BROKEN"

func TestBrokenStore(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesBrokenStores")
	}
	storetest.Run(t, func(*testing.T) tether.Store { return broken[name].store() })
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in a child process")
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStore$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("suite on a store that %s: got %v, want a failing run\n%s", name, err, out)
			}
			failed := map[string]bool{}
			for _, m := range regexp.MustCompile(`--- FAIL: TestBrokenStore/(\w+) `).FindAllStringSubmatch(string(out), -1) {
				failed[m[1]] = true
			}
			for _, sub := range b.mustFail {
				if !failed[sub] {
					t.Errorf("suite on a store that %s: subtest %s passed, want it to fail\n%s", name, sub, out)
				}
			}
		})
	}
}

// overwriting replaces an existing record instead of refusing it.
type overwriting struct{ *memstore.Store }

func (s overwriting) Create(ctx context.Context, key string, rec *tether.Record) error {
	if err := s.Store.Delete(ctx, key); err != nil {
		return err
	}
	return s.Store.Create(ctx, key, rec)
}

// noRefresh returns live records without moving their idle deadline.
type noRefresh struct{ *memstore.Store }

func (s noRefresh) Load(ctx context.Context, key string, now, _ time.Time) (*tether.Record, error) {
	return s.Store.Update(ctx, key, now, &tether.Patch{})
}

// extending moves the idle deadline even of a record that has expired.
type extending struct{ *memstore.Store }

func (s extending) Load(ctx context.Context, key string, now, idle time.Time) (*tether.Record, error) {
	return s.Store.Update(ctx, key, time.UnixMilli(0), &tether.Patch{IdleDeadline: idle})
}

// resurrecting creates the record an Update did not find: a blind write.
type resurrecting struct{ *memstore.Store }

func (s resurrecting) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	rec, err := s.Store.Update(ctx, key, now, p)
	if !errors.Is(err, tether.ErrNotFound) {
		return rec, err
	}
	rec = &tether.Record{CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Hour)}
	if err := p.Apply(rec); err != nil {
		return nil, err
	}
	return rec, s.Store.Create(ctx, key, rec)
}

// unconditional applies a patch without its Expect precondition.
type unconditional struct{ *memstore.Store }

func (s unconditional) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	q := *p
	q.Expect = nil
	return s.Store.Update(ctx, key, now, &q)
}

// checkThenWrite checks Expect on a read, then writes in a second step.
type checkThenWrite struct{ *memstore.Store }

func (s checkThenWrite) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	check := &tether.Patch{Expect: p.Expect}
	if _, err := s.Store.Update(ctx, key, now, check); err != nil {
		return nil, err
	}
	time.Sleep(time.Millisecond) // another request checks the same value meanwhile
	q := *p
	q.Expect = nil
	return s.Store.Update(ctx, key, now, &q)
}

// lossy reads, changes and writes back the whole record in separate steps.
type lossy struct{ *memstore.Store }

func (s lossy) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	rec, err := s.Store.Update(ctx, key, now, &tether.Patch{})
	if err != nil {
		return nil, err
	}
	if err := p.Apply(rec); err != nil {
		return nil, err
	}
	time.Sleep(time.Millisecond) // another request reads the old record meanwhile
	whole := &tether.Patch{Set: rec.Values, IdleDeadline: rec.IdleDeadline, AuthenticatedAt: rec.AuthenticatedAt}
	for _, k := range p.Delete {
		if _, ok := rec.Values[k]; !ok {
			whole.Delete = append(whole.Delete, k)
		}
	}
	return s.Store.Update(ctx, key, now, whole)
}

// miscounting deletes a user's sessions but reports none.
type miscounting struct{ *memstore.Store }

func (s miscounting) DeleteUser(ctx context.Context, userID string) (int, error) {
	_, err := s.Store.DeleteUser(ctx, userID)
	return 0, err
}
