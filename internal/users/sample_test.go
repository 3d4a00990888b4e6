package users

import (
	"testing"

	"github.com/tetherhq/tether/passwords"
)

// issue 11 row 9, after a restart: a directory opened with new Argon2id
// parameters counts its stored hashes at open, so the dummy work of an
// unknown user's login follows the parameters most accounts still have
// from the first login, not the new defaults.
func TestOpenCountsStoredHashes(t *testing.T) {
	old := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	next := passwords.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	forEach(t, func(t *testing.T, b backend) {
		loc := b.location(t)
		d := b.openAt(t, loc, passwords.NewHasherWith(old, 2))
		for _, name := range []string{"alice", "bob", "carol"} {
			mustAdd(t, d, name, "correct-horse", RoleUser)
		}
		if err := b.exec(d, `UPDATE tether_users SET password_hash = 'not a PHC string' WHERE username = 'carol'`); err != nil {
			t.Fatal(err)
		}
		h := passwords.NewHasherWith(next, 2)
		if got := h.DummyParams(); got != next {
			t.Fatalf("a fresh Hasher's dummy: got %+v, want its own %+v", got, next)
		}
		b.openAt(t, loc, h) // a restart with new parameters
		if got := h.DummyParams(); got != old {
			t.Fatalf("dummy after the open: got %+v, want the stored hashes' %+v", got, old)
		}
	})
}
