package users

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tetherhq/tether/internal/passwords"
)

var fast = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func open(t *testing.T, path string, p passwords.Params) *SQLite {
	t.Helper()
	s, err := Open(path, passwords.NewHasherWith(p, 4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAddAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "t.db"), fast)
	alice, err := s.Add(ctx, "alice", "correct-horse", RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID != "user-1001" {
		t.Fatalf("first user ID: got %q, want user-1001", alice.ID)
	}
	bob, _ := s.Add(ctx, "bob", "battery-staple", RoleAdmin)
	if bob.ID != "user-1002" || bob.Role != RoleAdmin {
		t.Fatalf("second user: got %+v, want user-1002 admin", bob)
	}
	if _, err := s.Add(ctx, "Alice", "another-pass", RoleUser); !errors.Is(err, ErrUserExists) {
		t.Fatalf("duplicate (case-insensitive) user: got %v, want ErrUserExists", err)
	}
	if err := s.SetDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, user, pw string
		wantID         string
	}{
		{"right password", "alice", "correct-horse", "user-1001"},
		{"wrong password", "alice", "wrong-horse", ""},
		{"unknown user", "mallory", "correct-horse", ""},
		{"disabled user", "bob", "battery-staple", ""},
		{"invalid user name", "al ice", "correct-horse", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Authenticate(ctx, tc.user, tc.pw)
			if tc.wantID == "" {
				if !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("got %+v %v, want ErrInvalidCredentials", u, err)
				}
				return
			}
			if err != nil || u.ID != tc.wantID {
				t.Fatalf("got %+v %v, want %s", u, err, tc.wantID)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "t.db"), fast)
	cases := []struct {
		name, user, pw, role string
		want                 error
	}{
		{"empty name", "", "correct-horse", RoleUser, ErrInvalidUsername},
		{"long name", strings.Repeat("a", 65), "correct-horse", RoleUser, ErrInvalidUsername},
		{"space in name", "a b", "correct-horse", RoleUser, ErrInvalidUsername},
		{"bad role", "carol", "correct-horse", "root", ErrInvalidRole},
		{"short password", "carol", "short", RoleUser, passwords.ErrPasswordTooShort},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Add(ctx, tc.user, tc.pw, tc.role); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if err := s.SetRole(ctx, "nobody", RoleAdmin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetRole of unknown user: got %v, want ErrNotFound", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	weak := open(t, path, fast)
	if _, err := weak.Add(ctx, "alice", "correct-horse", RoleUser); err != nil {
		t.Fatal(err)
	}
	before, _ := weak.Get(ctx, "alice")
	stronger := fast
	stronger.Time = 2
	s := open(t, path, stronger)
	if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Get(ctx, "alice")
	if after.PasswordHash == before.PasswordHash || !strings.Contains(after.PasswordHash, "t=2") {
		t.Fatalf("hash after login with raised parameters: got %q, want a t=2 rehash", after.PasswordHash)
	}
	if _, err := s.Authenticate(ctx, "alice", "correct-horse"); err != nil {
		t.Fatalf("login after rehash: %v", err)
	}
}

func TestPersistenceAndSetPassword(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, fast)
	_, _ = s.Add(ctx, "alice", "correct-horse", RoleUser)
	s.Close()
	s = open(t, path, fast)
	if err := s.SetPassword(ctx, "alice", "new-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "alice", "correct-horse"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password after change: got %v, want ErrInvalidCredentials", err)
	}
	if u, err := s.Authenticate(ctx, "alice", "new-password"); err != nil || u.ID != "user-1001" {
		t.Fatalf("new password after reopen: got %+v %v", u, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Username != "alice" {
		t.Fatalf("List: got %+v %v", list, err)
	}
}

func TestConcurrentAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "t.db"), fast)
	_, _ = s.Add(ctx, "alice", "correct-horse", RoleUser)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pw := "correct-horse"
			if i%2 == 1 {
				pw = "wrong-horse"
			}
			_, err := s.Authenticate(ctx, "alice", pw)
			if (err == nil) != (i%2 == 0) {
				t.Errorf("attempt %d: got %v", i, err)
			}
		}(i)
	}
	wg.Wait()
}
