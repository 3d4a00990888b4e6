package sqlitestore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
)

// Open a store and use it through the tether.Store interface, as a
// tether.Manager does: create a session, read it (one statement that also
// moves the idle deadline), change it atomically, find it through the
// per-user index, and read it again after a restart.
func Example() {
	dir, err := os.MkdirTemp("", "tether-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tether.db")

	store, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var s tether.Store = store
	ctx, now := context.Background(), time.Now()

	// The Manager's key is hex SHA-256 of the session token.
	const key = "9f86d081884c7d659a2feb5b4c3e2a1b2c3d4e5f60718293a4b5c6d7e8f90a1b"
	err = s.Create(ctx, key, &tether.Record{
		Values:           map[string]json.RawMessage{"views": json.RawMessage(`1`)},
		UserID:           "user-1001",
		CreatedAt:        now,
		AuthenticatedAt:  now,
		IdleDeadline:     now.Add(30 * time.Minute),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}

	// A request 10 minutes later: Load moves the idle deadline.
	later := now.Add(10 * time.Minute)
	rec, err := s.Load(ctx, key, later, later.Add(30*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("idle deadline moved by", rec.IdleDeadline.Sub(now).Round(time.Minute))

	// Concurrent requests may each increment without losing the others' counts.
	rec, err = s.Update(ctx, key, later, &tether.Patch{Incr: map[string]int64{"views": 1}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("views:", string(rec.Values["views"]))

	sessions, err := store.ListUser(ctx, "user-1001", later)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sessions of user-1001:", len(sessions))

	// Sessions survive a restart.
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}
	store, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	rec, err = store.Load(ctx, key, later, later.Add(30*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after restart, views:", string(rec.Values["views"]))

	// After the absolute deadline the record is expired: never extended.
	end := now.Add(9 * time.Hour)
	rec, err = store.Load(ctx, key, end, end.Add(30*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.ExpiredAt(end))

	// Logout deletes it; an update in flight cannot bring it back.
	if err := store.Delete(ctx, key); err != nil {
		log.Fatal(err)
	}
	_, err = store.Update(ctx, key, later, &tether.Patch{Incr: map[string]int64{"views": 1}})
	fmt.Println(errors.Is(err, tether.ErrNotFound))
	// Output:
	// idle deadline moved by 40m0s
	// views: 2
	// sessions of user-1001: 1
	// after restart, views: 2
	// true absolute
	// true
}
