package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRotationAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)

	in := start(t, dir, env("SESSION_SECRET", a))
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	signedByA := c.sid()
	in.stop()

	in = start(t, dir, env("SESSION_SECRET", b, "SESSION_SECRET_PREVIOUS", a))
	c2 := in.client()
	c2.setSID(signedByA)
	r := c2.get("/profile")
	expect(t, "cookie signed by the previous secret", r, 200, `{"userId":"user-1001","username":"alice"}`)
	signedByB := c2.sid()
	if signedByB == signedByA {
		t.Fatal("cookie signed by the previous secret was not re-signed")
	}
	in.stop()

	in = start(t, dir, env("SESSION_SECRET", b))
	cb, ca := in.client(), in.client()
	cb.setSID(signedByB)
	ca.setSID(signedByA)
	expect(t, "re-signed cookie once the previous secret is gone", cb.get("/profile"), 200, "")
	expect(t, "cookie signed only by a retired secret", ca.get("/profile"), 401, "")
}

func TestDevSecretPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env())
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	sid := c.sid()
	in.stop()
	st, err := os.Stat(filepath.Join(dir, "session.secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("session.secret: got %v %v, want mode 0600", st, err)
	}
	in = start(t, dir, env())
	c = in.client()
	c.setSID(sid)
	expect(t, "session after restart", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
}
