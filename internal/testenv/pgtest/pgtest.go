// Package pgtest gives a test its own schema on a real PostgreSQL server.
//
// The server comes from TETHER_TEST_DATABASE_URL; when that is unset, from
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (a local
// server with trust authentication). scripts/test.sh finds or starts a
// server, exports TETHER_TEST_DATABASE_URL and sets
// TETHER_TEST_REQUIRE_POSTGRES=1, so under the test command an unreachable
// server fails the test; a plain `go test` without PostgreSQL skips the
// PostgreSQL tests with a message saying how to run them.
//
// Each call to URL creates a schema with a random name, returns the server
// URL with search_path set to it, and drops the schema (CASCADE) when the
// test ends, so tests do not see each other's tables and can run in
// parallel.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is tried when TETHER_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the server's URL (no private schema), skipping or
// failing the test when it cannot be reached.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TETHER_TEST_DATABASE_URL")
	if u == "" {
		u = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		msg := "PostgreSQL is not reachable at the URL in TETHER_TEST_DATABASE_URL (or the default " + DefaultURL +
			"): start one, or run ./scripts/test.sh, which finds or starts one"
		if os.Getenv("TETHER_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s (%v)", msg, err)
		}
		t.Skip(msg)
	}
	conn.Close(ctx)
	return u
}

// URL returns a URL for a fresh schema of its own on the test server; the
// schema is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "tether_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})

	pu, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: TETHER_TEST_DATABASE_URL must be a postgres:// URL: %v", err)
	}
	q := pu.Query()
	q.Set("search_path", schema) // pgx passes unknown keys as startup parameters
	pu.RawQuery = q.Encode()
	return pu.String()
}
