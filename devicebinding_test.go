package tether_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

const bindingKey = tether.DeviceBindingKeyPrefix + "binding"

// bindingFixture is a fixture whose app reads and writes the device
// binding (package dbsc's keys) as package dbsc does.
func bindingFixture(t *testing.T, mod func(*tether.Config)) *fixture {
	f := newFixture(t, mod)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Login(r.URL.Query().Get("user"), ""); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	mux.HandleFunc("GET /bind", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).SetBindingValue(bindingKey, json.RawMessage(`{"id":"d1"}`)); err != nil {
			t.Errorf("SetBindingValue: %v", err)
		}
	})
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_, _ = w.Write(s.BindingValue(bindingKey))
	})
	mux.HandleFunc("GET /regen", func(w http.ResponseWriter, r *http.Request) { _ = tether.FromContext(r.Context()).Regenerate() })
	mux.HandleFunc("GET /reauth", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Reauthenticate(); err != nil {
			t.Errorf("Reauthenticate: %v", err)
		}
	})
	mux.HandleFunc("GET /role", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).ChangeRole("admin"); err != nil {
			t.Errorf("ChangeRole: %v", err)
		}
	})
	mux.HandleFunc("GET /skip", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		s.SkipRenewal()
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("GET /noop", func(w http.ResponseWriter, r *http.Request) { _ = tether.FromContext(r.Context()).UserID() })
	f.h = f.m.Handler(mux)
	return f
}

// The device binding (issue 16) is carried by every token change that
// keeps the browser (Regenerate, Reauthenticate, ChangeRole, renewal) and
// dropped by every login, which starts an unbound session.
func TestDeviceBindingAcrossTokenChanges(t *testing.T) {
	cases := []struct {
		path string
		kept bool
	}{
		{"/regen", true},
		{"/reauth", true},
		{"/role", true},
		{"/login?user=user-1", false}, // the same user signs in again
		{"/login?user=user-2", false}, // another user
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			f := bindingFixture(t, nil)
			_, c := f.do(t, "/login?user=user-1", "")
			f.do(t, "/bind", c)
			_, c2 := f.do(t, tc.path, c)
			if c2 == "" || c2 == c {
				t.Fatalf("%s: got no new token", tc.path)
			}
			rec, _ := f.do(t, "/read", c2)
			if got := rec.Body.String() == `{"id":"d1"}`; got != tc.kept {
				t.Errorf("binding after %s: got %q, want kept=%v", tc.path, rec.Body, tc.kept)
			}
		})
	}
}

// Renewal (cookie v2 renewal secret) keeps the record and its binding; a
// request that calls SkipRenewal sends no renewed cookie, and a later one
// renews.
func TestDeviceBindingRenewalAndSkipRenewal(t *testing.T) {
	f := bindingFixture(t, nil)
	_, c := f.do(t, "/login?user=user-1", "")
	f.do(t, "/bind", c)
	f.clock.Add(tether.DefaultRenewInterval + time.Second)
	if _, got := f.do(t, "/skip", c); got != "" {
		t.Fatalf("SkipRenewal: got Set-Cookie %q, want none", got)
	}
	_, renewed := f.do(t, "/noop", c)
	if renewed == "" || renewed == c {
		t.Fatalf("next request: got %q, want a renewed cookie", renewed)
	}
	if rec, _ := f.do(t, "/read", renewed); rec.Body.String() != `{"id":"d1"}` {
		t.Errorf("binding after renewal: got %q", rec.Body)
	}
	if f.events.has(tether.EventTokenReuse) {
		t.Error("token_reuse emitted")
	}
}

// Only keys under DeviceBindingKeyPrefix go through the binding accessors,
// and the data API neither shows nor changes them.
func TestDeviceBindingKeysAreReserved(t *testing.T) {
	f := newFixture(t, nil)
	var errs []error
	var keys []string
	var got bool
	f.h = f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		errs = []error{
			s.SetBindingValue(tether.ReservedKeyPrefix+"renew", json.RawMessage(`1`)),
			s.SetBindingValue("app", json.RawMessage(`1`)),
			s.SetBindingValue(tether.DeviceBindingKeyPrefix, json.RawMessage(`1`)),
			s.RemoveBindingValues(tether.ReservedKeyPrefix + "cookie"),
			s.Set(bindingKey, 1),
			s.SetBindingValue(bindingKey, json.RawMessage(`{not json`)),
			s.SetBindingValue(bindingKey, json.RawMessage(`{"id":"d1"}`)), // the one that works
		}
		_, err := s.IncrBindingValue(r.Context(), tether.ReservedKeyPrefix+"x", 1)
		errs = append(errs, err)
		keys = s.Keys()
		got, _ = s.Get(bindingKey, new(any))
	}))
	f.do(t, "/", "")
	want := []bool{true, true, true, true, true, true, false, true} // error expected
	for i, err := range errs {
		if (err != nil) != want[i] {
			t.Errorf("call %d: got %v, want error=%v", i, err, want[i])
		}
		if want[i] && i != 5 && !errors.Is(err, tether.ErrReservedKey) {
			t.Errorf("call %d: got %v, want ErrReservedKey", i, err)
		}
	}
	if len(keys) != 0 || got {
		t.Errorf("data API: Keys %v, Get found %v; want neither to show the binding", keys, got)
	}
}

// DeriveKeys gives one key per secret, in order, unrelated across labels.
func TestDeriveKeys(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.Secrets = [][]byte{secretA, secretB} })
	a := f.m.DeriveKeys("tether/dbsc/cookie/v1")
	b := f.m.DeriveKeys("tether/other/v1")
	again := f.m.DeriveKeys("tether/dbsc/cookie/v1")
	switch {
	case len(a) != 2 || len(a[0]) != 32:
		t.Fatalf("got %d keys of %d bytes, want 2 of 32", len(a), len(a[0]))
	case bytes.Equal(a[0], a[1]), bytes.Equal(a[0], b[0]), bytes.Equal(a[0], secretA):
		t.Error("keys repeat across secrets or labels, or equal the secret")
	case !bytes.Equal(a[0], again[0]) || !bytes.Equal(a[1], again[1]):
		t.Error("DeriveKeys is not deterministic")
	}
}
