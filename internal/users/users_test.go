package users

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/passwords"
	"github.com/tetherhq/tether/sqlitestore"
)

// fast keeps tests quick; TestRehashOnLogin uses the default parameters.
var fast = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// backend is one Directory implementation under test. The directory tests
// run against each: SQLite in a temporary file, PostgreSQL in a schema of
// its own on a real server (package pgtest).
type backend struct {
	name string
	// location returns a fresh, empty place for a directory: a file path
	// or a database URL.
	location func(t *testing.T) string
	open     func(loc string, h *passwords.Hasher) (Directory, error)
	// exec runs a statement without arguments on the directory's database.
	exec func(d Directory, query string) error
	// count runs a SELECT COUNT(*) query.
	count func(d Directory, query string) (int, error)
}

func backends() []backend {
	return []backend{
		{
			name:     "sqlite",
			location: func(t *testing.T) string { return filepath.Join(t.TempDir(), "tether.db") },
			open:     func(loc string, h *passwords.Hasher) (Directory, error) { return Open(loc, h) },
			exec: func(d Directory, q string) error {
				_, err := d.(*SQLite).db.Exec(q)
				return err
			},
			count: func(d Directory, q string) (n int, err error) {
				err = d.(*SQLite).db.QueryRow(q).Scan(&n)
				return n, err
			},
		},
		{
			name:     "postgres",
			location: func(t *testing.T) string { return pgtest.URL(t) },
			open: func(loc string, h *passwords.Hasher) (Directory, error) {
				return OpenPostgres(context.Background(), loc, h)
			},
			exec: func(d Directory, q string) error {
				_, err := d.(*Postgres).pool.Exec(context.Background(), q)
				return err
			},
			count: func(d Directory, q string) (n int, err error) {
				err = d.(*Postgres).pool.QueryRow(context.Background(), q).Scan(&n)
				return n, err
			},
		},
	}
}

// forEach runs test once per backend, as a subtest named after it.
func forEach(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// openAt opens the backend's directory at loc, closed when the test ends.
func (b backend) openAt(t *testing.T, loc string, h *passwords.Hasher) Directory {
	t.Helper()
	d, err := b.open(loc, h)
	if err != nil {
		t.Fatalf("open %s directory: %v", b.name, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// fresh opens an empty directory.
func (b backend) fresh(t *testing.T, h *passwords.Hasher) Directory {
	t.Helper()
	return b.openAt(t, b.location(t), h)
}

func open(t *testing.T, path string, h *passwords.Hasher) *SQLite {
	t.Helper()
	s, err := Open(path, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "tether.db") }

func mustAdd(t *testing.T, s Directory, name, pw, role string) User {
	t.Helper()
	u, err := s.Add(context.Background(), name, pw, role)
	if err != nil {
		t.Fatalf("Add(%s): %v", name, err)
	}
	return u
}

func TestAdd(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.fresh(t, passwords.NewHasherWith(fast, 4))
		before := time.Now().Add(-time.Second)
		alice := mustAdd(t, s, "alice", "correct-horse", RoleUser)
		if alice.ID != "user-1001" {
			t.Fatalf("first user ID: got %q, want user-1001", alice.ID)
		}
		if alice.Username != "alice" || alice.Role != RoleUser || alice.Disabled || alice.CreatedAt.Before(before) ||
			!strings.HasPrefix(alice.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("first user: got %+v", alice)
		}
		bob := mustAdd(t, s, "Bob.Smith@example-1_x", "battery-staple", RoleAdmin)
		if bob.ID != "user-1002" || bob.Role != RoleAdmin {
			t.Fatalf("second user: got %+v, want user-1002 admin", bob)
		}
		got, err := s.Get(ctx, "ALICE")
		if err != nil || got != alice {
			t.Fatalf("Get (case-insensitive): got %+v %v,\nwant %+v", got, err, alice)
		}
		cases := []struct {
			name, user, pw, role string
			want                 error
		}{
			{"duplicate", "alice", "another-pass", RoleUser, ErrUserExists},
			{"duplicate in other case", "Alice", "another-pass", RoleAdmin, ErrUserExists},
			{"empty name", "", "correct-horse", RoleUser, ErrInvalidUsername},
			{"65-character name", strings.Repeat("a", 65), "correct-horse", RoleUser, ErrInvalidUsername},
			{"space in name", "a b", "correct-horse", RoleUser, ErrInvalidUsername},
			{"slash in name", "a/b", "correct-horse", RoleUser, ErrInvalidUsername},
			{"non-ASCII name", "älice", "correct-horse", RoleUser, ErrInvalidUsername},
			{"unknown role", "carol", "correct-horse", "root", ErrInvalidRole},
			{"empty role", "carol", "correct-horse", "", ErrInvalidRole},
			{"capitalised role", "carol", "correct-horse", "Admin", ErrInvalidRole},
			{"short password", "carol", "k3y!", RoleUser, passwords.ErrPasswordTooShort},
			{"long password", "carol", strings.Repeat("p", passwords.MaxLength+1), RoleUser, passwords.ErrPasswordTooLong},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u, err := s.Add(ctx, tc.user, tc.pw, tc.role)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %+v %v, want %v", u, err, tc.want)
				}
				if strings.Contains(err.Error(), tc.pw) {
					t.Fatalf("error %q contains the password", err)
				}
			})
		}
		mustAdd(t, s, strings.Repeat("c", 64), "correct-horse", RoleUser)
		list, err := s.List(ctx)
		if err != nil || len(list) != 3 || list[0].ID != "user-1001" || list[1].ID != "user-1002" || list[2].Username != strings.Repeat("c", 64) {
			t.Fatalf("List: got %+v %v, want user-1001, user-1002 and the third user, oldest first", list, err)
		}
		// IDs are never reused and grow; SQLite spends none on a failed add,
		// PostgreSQL's sequence may.
		if third := list[2].ID; third <= "user-1002" || len(third) != len("user-1003") {
			t.Fatalf("third ID: got %s, want above user-1002", third)
		}
	})
}

func TestUserJSONHidesHash(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.fresh(t, passwords.NewHasherWith(fast, 1))
		u := mustAdd(t, s, "alice", "correct-horse", RoleUser)
		js, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(js), "argon2id") || strings.Contains(string(js), u.PasswordHash) {
			t.Fatalf("JSON %s contains the password hash", js)
		}
		if !strings.Contains(string(js), `"id":"user-1001"`) || !strings.Contains(string(js), `"username":"alice"`) {
			t.Fatalf("JSON %s: want id and username fields", js)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		h := passwords.NewHasherWith(fast, 4)
		s := b.fresh(t, h)
		mustAdd(t, s, "alice", "correct-horse", RoleUser)
		mustAdd(t, s, "bob", "battery-staple", RoleAdmin)
		if err := s.SetDisabled(ctx, "bob", true); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, user, pw string
			wantID         string // "" means ErrInvalidCredentials
		}{
			{"right password", "alice", "correct-horse", "user-1001"},
			{"name in other case", "ALICE", "correct-horse", "user-1001"},
			{"wrong password", "alice", "wrong-horse", ""},
			{"password in other case", "alice", "Correct-horse", ""},
			{"empty password", "alice", "", ""},
			{"oversized password", "alice", "correct-horse" + strings.Repeat("x", 2*passwords.MaxLength), ""},
			{"unknown user", "mallory", "correct-horse", ""},
			{"disabled user, right password", "bob", "battery-staple", ""},
			{"disabled user, wrong password", "bob", "wrong-staple", ""},
			{"invalid user name", "al ice", "correct-horse", ""},
			{"empty user name", "", "correct-horse", ""},
			{"oversized user name", strings.Repeat("a", 10000), "correct-horse", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := h.Computations()
				u, err := s.Authenticate(ctx, tc.user, tc.pw)
				// Every outcome costs exactly one Argon2id computation with the
				// current parameters (no rehash here: the hashes are current).
				if n := h.Computations() - before; n != 1 {
					t.Errorf("computations: got %d, want 1 (equal work for every outcome)", n)
				}
				if tc.wantID == "" {
					if err != ErrInvalidCredentials || u != (User{}) {
						t.Fatalf("got %+v %v, want exactly ErrInvalidCredentials and no user", u, err)
					}
					return
				}
				if err != nil || u.ID != tc.wantID || u.Username != "alice" {
					t.Fatalf("got %+v %v, want %s alice", u, err, tc.wantID)
				}
			})
		}
		if err := s.SetDisabled(ctx, "bob", false); err != nil {
			t.Fatal(err)
		}
		if u, err := s.Authenticate(ctx, "bob", "battery-staple"); err != nil || u.Role != RoleAdmin {
			t.Fatalf("re-enabled admin: got %+v %v", u, err)
		}
	})
}

func TestAuthenticateContextEnded(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.fresh(t, passwords.NewHasherWith(fast, 1))
		mustAdd(t, s, "alice", "correct-horse", RoleUser)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, name := range []string{"alice", "mallory", "bad name"} {
			u, err := s.Authenticate(ctx, name, "correct-horse")
			if err == nil || errors.Is(err, ErrInvalidCredentials) || !errors.Is(err, context.Canceled) {
				t.Fatalf("Authenticate(%s) with an ended context: got %+v %v, want context.Canceled (a server error, not a failed login)", name, u, err)
			}
		}
	})
}

func TestCorruptedHashFailsClosed(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		h := passwords.NewHasherWith(fast, 1)
		s := b.fresh(t, h)
		mustAdd(t, s, "alice", "correct-horse", RoleUser)
		huge := "$argon2id$v=19$m=4294967295,t=4294967295,p=255$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
		for _, bad := range []string{"", "plaintext-password", huge} {
			if err := b.exec(s, `UPDATE tether_users SET password_hash = '`+bad+`'`); err != nil {
				t.Fatal(err)
			}
			before := h.Computations()
			if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != ErrInvalidCredentials {
				t.Fatalf("stored hash %q: got %v, want ErrInvalidCredentials", bad, err)
			}
			if n := h.Computations() - before; n != 1 {
				t.Fatalf("stored hash %q: got %d computations, want 1 (the dummy)", bad, n)
			}
		}
	})
}

func TestRehashOnLogin(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		path := b.location(t)
		weak := b.openAt(t, path, passwords.NewHasherWith(fast, 1))
		mustAdd(t, weak, "alice", "correct-horse", RoleUser)
		before, _ := weak.Get(ctx, "alice")

		h := passwords.NewHasher() // default (OWASP) parameters
		s := b.openAt(t, path, h)
		if _, err := s.Authenticate(ctx, "alice", "wrong-horse"); err != ErrInvalidCredentials {
			t.Fatalf("wrong password: got %v", err)
		}
		if u, _ := s.Get(ctx, "alice"); u.PasswordHash != before.PasswordHash {
			t.Fatal("a failed login rehashed the password; want only successful logins to")
		}
		u, err := s.Authenticate(ctx, "alice", "correct-horse")
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.Get(ctx, "alice")
		if after.PasswordHash == before.PasswordHash || !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("stored hash after login with default parameters: got %q, want an m=19456,t=2,p=1 rehash of %q", after.PasswordHash, before.PasswordHash)
		}
		if u.PasswordHash != after.PasswordHash {
			t.Fatalf("returned user carries the old hash")
		}
		n := h.Computations()
		if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != nil {
			t.Fatalf("login after rehash: %v", err)
		}
		if again, _ := s.Get(ctx, "alice"); again.PasswordHash != after.PasswordHash || h.Computations()-n != 1 {
			t.Fatalf("second login rehashed again (%d computations); want the current hash kept", h.Computations()-n)
		}
		// The weaker Hasher still verifies the stronger hash (parameters travel
		// with it).
		if _, err := weak.Authenticate(ctx, "alice", "correct-horse"); err != nil {
			t.Fatalf("old Hasher after upgrade: %v", err)
		}
	})
}

func TestRehashNeverOverwritesAPasswordChange(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.fresh(t, passwords.NewHasherWith(fast, 1))
		alice := mustAdd(t, s, "alice", "correct-horse", RoleUser)
		// A login read alice's old hash; meanwhile her password changes.
		if err := s.SetPassword(ctx, "alice", "new-password"); err != nil {
			t.Fatal(err)
		}
		stale, _ := passwords.NewHasherWith(fast, 1).Hash(ctx, "correct-horse")
		if err := replaceHashOf(s)(ctx, alice.ID, alice.PasswordHash, stale); !errors.Is(err, errHashChanged) {
			t.Fatalf("replaceHash after a password change: got %v, want errHashChanged", err)
		}
		if _, err := s.Authenticate(ctx, "alice", "new-password"); err != nil {
			t.Fatalf("new password after a racing rehash: %v", err)
		}
		if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != ErrInvalidCredentials {
			t.Fatalf("old password after a racing rehash: got %v, want ErrInvalidCredentials", err)
		}
	})
}

func TestSetters(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.fresh(t, passwords.NewHasherWith(fast, 1))
		mustAdd(t, s, "alice", "correct-horse", RoleUser)
		cases := []struct {
			name string
			do   func() error
			want error
		}{
			{"role to admin", func() error { return s.SetRole(ctx, "Alice", RoleAdmin) }, nil},
			{"bad role", func() error { return s.SetRole(ctx, "alice", "root") }, ErrInvalidRole},
			{"role of unknown user", func() error { return s.SetRole(ctx, "nobody", RoleAdmin) }, ErrNotFound},
			{"disable", func() error { return s.SetDisabled(ctx, "alice", true) }, nil},
			{"disable unknown user", func() error { return s.SetDisabled(ctx, "nobody", true) }, ErrNotFound},
			{"disable invalid name", func() error { return s.SetDisabled(ctx, "no body", true) }, ErrInvalidUsername},
			{"password of unknown user", func() error { return s.SetPassword(ctx, "nobody", "new-password") }, ErrNotFound},
			{"short password", func() error { return s.SetPassword(ctx, "alice", "k3y!") }, passwords.ErrPasswordTooShort},
			{"get unknown user", func() error { _, err := s.Get(ctx, "nobody"); return err }, ErrNotFound},
			{"get invalid name", func() error { _, err := s.Get(ctx, "a b"); return err }, ErrInvalidUsername},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.do(); !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			})
		}
		u, err := s.Get(ctx, "alice")
		if err != nil || u.Role != RoleAdmin || !u.Disabled {
			t.Fatalf("after setters: got %+v %v, want an admin, disabled", u, err)
		}
	})
}

func TestPersistence(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		path := b.location(t)
		h := passwords.NewHasherWith(fast, 1)
		s, err := b.open(path, h)
		if err != nil {
			t.Fatal(err)
		}
		alice := mustAdd(t, s, "alice", "correct-horse", RoleUser)
		mustAdd(t, s, "bob", "battery-staple", RoleUser)
		if err := s.SetRole(ctx, "bob", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s = b.openAt(t, path, h)
		got, err := s.Get(ctx, "alice")
		if err != nil || got != alice {
			t.Fatalf("alice after reopen: got %+v %v,\nwant %+v", got, err, alice)
		}
		if u, err := s.Authenticate(ctx, "bob", "battery-staple"); err != nil || u.Role != RoleAdmin || u.ID != "user-1002" {
			t.Fatalf("bob after reopen: got %+v %v", u, err)
		}
		if err := s.SetPassword(ctx, "alice", "new-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != ErrInvalidCredentials {
			t.Fatalf("old password after change: got %v, want ErrInvalidCredentials", err)
		}
		if u, err := s.Authenticate(ctx, "alice", "new-password"); err != nil || u.ID != "user-1001" {
			t.Fatalf("new password: got %+v %v", u, err)
		}
		// IDs continue after a reopen.
		if carol := mustAdd(t, s, "carol", "correct-horse", RoleUser); carol.ID != "user-1003" {
			t.Fatalf("third user after reopen: got %s, want user-1003", carol.ID)
		}
		// Each migration ran once.
		var versions int
		if versions, err = b.count(s, `SELECT COUNT(*) FROM `+schemaTable); err != nil || versions != 2 {
			t.Fatalf("schema versions: got %d %v, want 2", versions, err)
		}
	})
}

// TestSharesFileWithSessionStore opens the session store and the user
// directory on one file, in both orders.
func TestSharesFileWithSessionStore(t *testing.T) {
	for _, usersFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("users first: ", usersFirst), func(t *testing.T) {
			path := tempDB(t)
			var s *SQLite
			if usersFirst {
				s = open(t, path, passwords.NewHasherWith(fast, 1))
			}
			st, err := sqlitestore.Open(path, sqlitestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !usersFirst {
				s = open(t, path, passwords.NewHasherWith(fast, 1))
			}
			if u := mustAdd(t, s, "alice", "correct-horse", RoleUser); u.ID != "user-1001" {
				t.Fatalf("got %s, want user-1001", u.ID)
			}
			if err := st.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			db, _ := sql.Open("sqlite", sqlitestore.DSN(path))
			defer db.Close()
			rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'tether_%'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				rows.Scan(&name)
				t.Errorf("table %q is not prefixed tether_", name)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing-dir", "tether.db"), nil); err == nil {
		t.Fatal("Open in a missing directory: got nil, want an error")
	}
	// A database from a newer program is refused, not misread.
	forEach(t, func(t *testing.T, b backend) {
		loc := b.location(t)
		s := b.openAt(t, loc, nil)
		if err := b.exec(s, `INSERT INTO `+schemaTable+` (version) VALUES (99)`); err != nil {
			t.Fatal(err)
		}
		if d, err := b.open(loc, nil); err == nil || !strings.Contains(err.Error(), "newer") {
			if err == nil {
				d.Close()
			}
			t.Fatalf("open of a newer schema: got %v, want a refusal that says the schema is newer", err)
		}
	})
}

// replaceHashOf returns the directory's conditional hash swap.
func replaceHashOf(d Directory) func(ctx context.Context, id, oldHash, newHash string) error {
	switch d := d.(type) {
	case *SQLite:
		return d.replaceHash
	case *Postgres:
		return d.replaceHash
	}
	panic(fmt.Sprintf("unknown directory %T", d))
}

func TestConcurrentAuthenticate(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		h := passwords.NewHasherWith(fast, 4)
		path := b.location(t)
		s := b.openAt(t, path, h)
		mustAdd(t, s, "alice", "correct-horse", RoleUser)
		mustAdd(t, s, "bob", "battery-staple", RoleUser)
		// A second handle on the file, as the admin CLI would have, upgrades
		// hashes while the first one serves logins.
		other := b.openAt(t, path, passwords.NewHasherWith(passwords.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2))
		const n = 60
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dir, user, pw := s, "alice", "correct-horse"
				switch i % 4 {
				case 1:
					pw = "wrong-horse"
				case 2:
					user = "mallory"
				case 3:
					dir, user, pw = other, "bob", "battery-staple"
				}
				u, err := dir.Authenticate(ctx, user, pw)
				switch i % 4 {
				case 0, 3:
					if err != nil || u.Username != user {
						t.Errorf("attempt %d (%s): got %+v %v, want success", i, user, u, err)
					}
				default:
					if err != ErrInvalidCredentials {
						t.Errorf("attempt %d (%s): got %v, want ErrInvalidCredentials", i, user, err)
					}
				}
			}()
		}
		wg.Wait()
		if b, _ := s.Get(ctx, "bob"); !strings.Contains(b.PasswordHash, "m=128") {
			t.Fatalf("bob's hash: got %q, want the second handle's m=128 rehash", b.PasswordHash)
		}
	})
}
