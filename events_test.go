package tether_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

// Events never carry a token, cookie value or store key.
func TestEventsCarryNoSecrets(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.do(t, "/incr", c)
	f.do(t, "/get", c+"x")
	f.do(t, "/logout", c)
	var buf bytes.Buffer
	for _, e := range f.events.events {
		fmt.Fprintf(&buf, "%+v\n", e)
	}
	tok := c[:strings.IndexByte(c, '.')]
	mac := c[strings.IndexByte(c, '.')+1:]
	for _, secret := range []string{c, tok, mac, string(secretA)} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("events contain a secret %q:\n%s", secret, buf.String())
		}
	}
	for _, e := range f.events.events {
		if e.Type == tether.EventLogout && (e.UserID != "user-1" || e.Session == "") {
			t.Fatalf("logout event: got %+v, want userId and session handle", e)
		}
	}
}

// Every event name is spelled once, in events.go: the rest of the module
// (library, server, CLI) uses the constants, so a renamed or new event
// cannot drift between the emitter, the log and the docs. Test files may
// spell names out to check the wire format.
func TestEventNamesOnlyInEventsGo(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "events.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // value → constant
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Event") {
					v, _ := strconv.Unquote(lit.Value)
					names[v] = n.Name
				}
			}
		}
	}
	if len(names) < 20 {
		t.Fatalf("found %d event constants in events.go, want at least 20: did the file's shape change?", len(names))
	}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == "events.go" {
			return nil
		}
		pf, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(pf, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && names[v] != "" {
				t.Errorf("%s: string literal %s; want tether.%s", fset.Position(lit.Pos()), lit.Value, names[v])
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Manager.Emit fills the event in from its own Manager's session, not from
// whichever Manager wrapped the request last.
func TestEmitUsesItsManagersSession(t *testing.T) {
	user := newFixture(t, nil)
	admin := newFixture(t, func(c *tether.Config) { c.CookieName = "admin_sid" })
	_, uc := user.do(t, "/login", "")
	h := user.m.Handler(admin.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = user.m.FromContext(r.Context()).UserID() // loads it
		user.m.Emit(r, tether.EventReauthFailure)
	})))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: uc})
	h.ServeHTTP(httptest.NewRecorder(), req)
	var got tether.Event
	for _, e := range user.events.events {
		if e.Type == tether.EventReauthFailure {
			got = e
		}
	}
	if got.UserID != "user-1" || got.Session == "" {
		t.Fatalf("event: got user %q session %q, want the user Manager's session (user-1)", got.UserID, got.Session)
	}
}
