package users

import (
	"context"
	"errors"
	"testing"

	"github.com/tetherhq/tether/passwords"
)

// generations returns every user's Generation by name.
func generations(t *testing.T, d Directory) map[string]int64 {
	t.Helper()
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, u := range list {
		out[u.Username] = u.Generation
	}
	return out
}

// TestGeneration checks which changes raise the credential generation, the
// ground of issue 11 row 3: a password change and a disable raise it in the
// statement that makes them, a role change or a re-enable do not, and
// RaiseGeneration / RaiseAllGenerations raise it on their own.
func TestGeneration(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		d := b.fresh(t, passwords.NewHasherWith(fast, 2))
		if u := mustAdd(t, d, "alice", "correct-horse", RoleUser); u.Generation != 0 {
			t.Fatalf("new user: got generation %d, want 0", u.Generation)
		}
		mustAdd(t, d, "bob", "battery-staple", RoleUser)
		cases := []struct {
			name       string
			do         func() error
			alice, bob int64 // generations after the step
		}{
			{"password change", func() error { return d.SetPassword(ctx, "alice", "new-password") }, 1, 0},
			{"refused password change", func() error { return d.SetPassword(ctx, "alice", "short") }, 1, 0},
			{"role change", func() error { return d.SetRole(ctx, "alice", RoleAdmin) }, 1, 0},
			{"disable", func() error { return d.SetDisabled(ctx, "ALICE", true) }, 2, 0},
			{"enable", func() error { return d.SetDisabled(ctx, "alice", false) }, 2, 0},
			{"login", func() error { _, err := d.Authenticate(ctx, "alice", "new-password"); return err }, 2, 0},
			{"raise one", func() error { return d.RaiseGeneration(ctx, "Bob") }, 2, 1},
			{"raise all", func() error {
				n, err := d.RaiseAllGenerations(ctx)
				if err == nil && n != 2 {
					t.Errorf("RaiseAllGenerations: got %d users, want 2", n)
				}
				return err
			}, 3, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.do(); err != nil && tc.name != "refused password change" {
					t.Fatalf("got %v, want nil", err)
				}
				got := generations(t, d)
				if got["alice"] != tc.alice || got["bob"] != tc.bob {
					t.Fatalf("generations: got alice %d bob %d, want %d %d", got["alice"], got["bob"], tc.alice, tc.bob)
				}
			})
		}
		if err := d.RaiseGeneration(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("RaiseGeneration of an unknown user: got %v, want ErrNotFound", err)
		}
		if err := d.RaiseGeneration(ctx, "no body"); !errors.Is(err, ErrInvalidUsername) {
			t.Fatalf("RaiseGeneration of an invalid name: got %v, want ErrInvalidUsername", err)
		}
	})
}

// TestAuthenticateReturnsGeneration: the generation a login gets is the
// one stored with the hash it verified, also after a rehash.
func TestAuthenticateReturnsGeneration(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		loc := b.location(t)
		old := b.openAt(t, loc, passwords.NewHasherWith(fast, 1))
		mustAdd(t, old, "alice", "correct-horse", RoleUser)
		for range 3 {
			if err := old.SetPassword(ctx, "alice", "correct-horse"); err != nil {
				t.Fatal(err)
			}
		}
		before := mustGetHash(t, old)
		// Other parameters: the login rehashes, and keeps the generation.
		d := b.openAt(t, loc, passwords.NewHasherWith(passwords.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1))
		u, err := d.Authenticate(ctx, "alice", "correct-horse")
		if err != nil || u.Generation != 3 {
			t.Fatalf("Authenticate: got generation %d (%v), want 3", u.Generation, err)
		}
		if got, _ := d.Get(ctx, "alice"); got.PasswordHash == before || got.Generation != 3 {
			t.Fatalf("after the rehash: got generation %d, want 3 and a new hash", got.Generation)
		}
	})
}

func mustGetHash(t *testing.T, d Directory) string {
	t.Helper()
	u, err := d.Get(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// TestGenerationMigration: a directory made before the generation column
// gets it at the next open, at 0 for every existing account, so sessions
// logged in before the upgrade (which hold no generation, read as 0) go on.
func TestGenerationMigration(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		loc := b.location(t)
		h := passwords.NewHasherWith(fast, 1)
		d, err := b.open(loc, h)
		if err != nil {
			t.Fatal(err)
		}
		mustAdd(t, d, "alice", "correct-horse", RoleUser)
		// Back to schema 1.
		for _, q := range []string{`ALTER TABLE tether_users DROP COLUMN generation`, `DELETE FROM ` + schemaTable + ` WHERE version = 2`} {
			if err := b.exec(d, q); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
		d = b.openAt(t, loc, h)
		u, err := d.Authenticate(context.Background(), "alice", "correct-horse")
		if err != nil || u.Generation != 0 {
			t.Fatalf("after the migration: got generation %d (%v), want 0", u.Generation, err)
		}
	})
}
