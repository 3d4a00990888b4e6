package server

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/clientip"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/metrics"
)

func TestNewRequiresManagerAndUsers(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New(Options{}): got nil error, want one")
	}
}

func TestRoutes(t *testing.T) {
	h := testServer(t, tether.Config{}, Options{}).Handler()
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string
	}{
		{"root", "GET", "/", "", "", 200, "Server is running."},
		{"healthz", "GET", "/healthz", "", "", 200, `{"status":"ok"}`},
		{"readyz", "GET", "/readyz", "", "", 200, `{"status":"ready"}`},
		{"profile anonymous", "GET", "/profile", "", "", 401, `{"error":"Not authenticated"}`},
		{"login json", "POST", "/login", "application/json", `{"username":"alice","password":"correct-horse"}`, 200, `{"ok":true,"user":"alice"}`},
		{"login form", "POST", "/login", "application/x-www-form-urlencoded; charset=utf-8", "username=alice&password=correct-horse", 200, `{"ok":true,"user":"alice"}`},
		{"login json charset", "POST", "/login", "application/json; charset=utf-8", `{"username":"alice","password":"correct-horse"}`, 200, `{"ok":true,"user":"alice"}`},
		{"wrong password", "POST", "/login", "application/json", `{"username":"alice","password":"nope-nope"}`, 401, `{"error":"Invalid credentials"}`},
		{"repeated form field", "POST", "/login", "application/x-www-form-urlencoded", "username=alice&username=bob&password=x", 400, ""},
		{"overlong username", "POST", "/login", "application/json", `{"username":"` + strings.Repeat("a", 65) + `","password":"x"}`, 400, ""},
		{"overlong password", "POST", "/login", "application/json", `{"username":"alice","password":"` + strings.Repeat("a", 1025) + `"}`, 400, ""},
		{"malformed form", "POST", "/login", "application/x-www-form-urlencoded", "username=%zz", 400, ""},
		{"multipart refused", "POST", "/login", "multipart/form-data; boundary=x", "--x--", 415, ""},
		{"405 has JSON", "GET", "/logout", "", "", 405, `{"error":"Method not allowed"}`},
		{"unsafe method without a CSRF token", "PUT", "/views", "", "", 403, `{"error":"Invalid CSRF token"}`},
		{"404 has JSON", "GET", "/nowhere", "", "", 404, `{"error":"Not found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || (tc.want != "" && strings.TrimSpace(rec.Body.String()) != tc.want) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
			if tc.status >= 400 && !strings.HasPrefix(rec.Body.String(), `{"error":`) {
				t.Fatalf("error body: got %q, want {\"error\":…}", rec.Body.String())
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Fatalf("X-Content-Type-Options: got %q, want nosniff", got)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, production := range []bool{false, true} {
		s := testServer(t, tether.Config{}, Options{Production: production})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil)) // plain HTTP
		h := rec.Header()
		if got := h.Get("Strict-Transport-Security") != ""; got != production {
			t.Errorf("production=%v: HSTS present=%v, want %v (sent in production even over plain HTTP)", production, got, production)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("production=%v: CSP %q, X-Frame-Options %q", production, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"))
		}
	}
}

func TestPlainHTTPWarningInProduction(t *testing.T) {
	cases := []struct {
		name  string
		tp    string
		proto string
		warns int
	}{
		{"no trusted proxy", "", "https", 1}, // X-Forwarded-Proto from an untrusted peer is ignored
		{"trusted proxy says https", "127.0.0.1", "https", 0},
		{"trusted proxy says http", "127.0.0.1", "http", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			tp, err := config.ParseTrustProxy(tc.tp)
			if err != nil {
				t.Fatal(err)
			}
			s := testServer(t, tether.Config{}, Options{Production: true, Proxy: clientip.New(tp), Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
			h := s.Handler()
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest("GET", "/healthz", nil)
				r.RemoteAddr = "127.0.0.1:5555"
				r.Header.Set("X-Forwarded-Proto", tc.proto)
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if got := strings.Count(logBuf.String(), "plain HTTP"); got != tc.warns {
				t.Fatalf("warnings after 3 requests: got %d, want %d\n%s", got, tc.warns, logBuf.String())
			}
			if tc.warns > 0 && !strings.Contains(logBuf.String(), "TRUST_PROXY") {
				t.Fatalf("warning does not say what to do: %s", logBuf.String())
			}
		})
	}
}

// Every route the server registers is served by its own handler and gets
// its own metric label: the path of its pattern, whatever the id in it.
func TestEveryRouteHasItsLabel(t *testing.T) {
	mets := metrics.New()
	s := testServer(t, tether.Config{}, Options{Metrics: mets, MetricsOnMain: true})
	h := s.Handler()
	_, patterns := s.routes()
	seen := map[string]bool{}
	for _, p := range patterns {
		if seen[p] {
			t.Errorf("pattern %q registered twice", p)
		}
		seen[p] = true
	}
	for _, want := range []string{"GET /{$}", "GET /profile", "DELETE /sessions/{id}", "POST /sessions/revoke-others",
		"GET /admin/users/{name}/sessions", "DELETE /admin/users/{name}/sessions", "DELETE /admin/users/{name}/sessions/{id}", "DELETE /admin/sessions",
		"GET /healthz", "GET /readyz", "GET /metrics"} {
		if !seen[want] {
			t.Errorf("patterns %q: missing %q", patterns, want)
		}
	}

	// Logged in with a CSRF token, so that every request reaches its route.
	send := sender(h)
	var cookie string
	for _, c := range send("POST", "/login", `{"username":"alice","password":"correct-horse"}`, "").Result().Cookies() {
		cookie = c.Value
	}
	var tok struct{ CSRFToken string }
	if err := json.Unmarshal(send("GET", "/csrf-token", "", cookie).Body.Bytes(), &tok); err != nil || tok.CSRFToken == "" {
		t.Fatalf("csrf token: %v", err)
	}
	const id = "0123456789abcdef"
	concrete := strings.NewReplacer("{id}", id, "{name}", "alice", "{$}", "", "{file}", "app.css")
	last := func(p string) int { // logout: it ends the session
		if strings.HasSuffix(p, " /logout") {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(patterns, func(a, b string) int { return last(a) - last(b) })
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		r := httptest.NewRequest(method, concrete.Replace(path), strings.NewReader("{}"))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-CSRF-Token", tok.CSRFToken)
		r.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusMethodNotAllowed || strings.Contains(rec.Body.String(), `"Not found"`) || strings.Contains(rec.Body.String(), "CSRF") {
			t.Errorf("%s %s: got %d %s, want an answer of the route's own handler", method, r.URL.Path, rec.Code, rec.Body)
		}
	}
	send("GET", "/nope/"+id, "", "")

	rec := httptest.NewRecorder()
	mets.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		if want := `method="` + method + `",route="` + path + `"}`; !strings.Contains(out, want) {
			t.Errorf("%s: no series with %s", p, want)
		}
	}
	for _, want := range []string{`method="DELETE",route="/sessions/{id}"}`, `method="GET",route="other"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("no series with %s", want)
		}
	}
	if strings.Contains(out, id) {
		t.Error("an id from a path became a label value")
	}
}

// muxCallsOutsideRouter returns the places in f that register on a ServeMux
// (x.Handle(pattern, h), x.HandleFunc(pattern, h)) outside router's methods.
func muxCallsOutsideRouter(fset *token.FileSet, f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
			if id, ok := fd.Recv.List[0].Type.(*ast.Ident); ok && id.Name == "router" {
				continue
			}
		}
		ast.Inspect(d, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") {
				out = append(out, fset.Position(call.Pos()).String())
			}
			return true
		})
	}
	return out
}

// A route registered on a ServeMux without the router would be served but
// missing from the metric labels: only the router registers.
func TestRoutesOnlyThroughRouter(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range muxCallsOutsideRouter(fset, f) {
			t.Errorf("%s: a route registered outside the router (use router.route or router.handle)", at)
		}
	}
	// The check itself finds one.
	f, err := parser.ParseFile(fset, "planted.go", `package server
func (s *Server) routes() { app := newRouter(nil); app.mux.HandleFunc("GET /x", s.root) }`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := muxCallsOutsideRouter(fset, f); len(got) != 1 {
		t.Fatalf("planted registration: found %q, want one", got)
	}
}
