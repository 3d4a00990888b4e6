package server

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tetherhq/tether/secheaders"
)

// splitPolicy must lose no header: what secheaders sets (base) and what
// apiHeaders adds (doc) together are the whole document set, and base holds
// none of the document-only headers.
func TestSplitPolicyKeepsEveryHeader(t *testing.T) {
	for _, production := range []bool{false, true} {
		full := secheaders.Default(production)
		want, err := full.Headers()
		if err != nil {
			t.Fatal(err)
		}
		base, doc, err := splitPolicy(full)
		if err != nil {
			t.Fatal(err)
		}
		got, err := base.Headers()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range doc {
			if _, dup := got[d.name]; dup {
				t.Errorf("production=%v: %s in both base and doc", production, d.name)
			}
			got[d.name] = d.val
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("production=%v: got %v, want %v", production, got, want)
		}
		if len(doc) != len(documentOnly) {
			t.Errorf("production=%v: got %d document-only headers, want %d", production, len(doc), len(documentOnly))
		}
		if base.CSP != full.CSP {
			t.Errorf("production=%v: base lost the CSP", production)
		}
	}
}

// Every response that is not JSON ends with the whole document set, whether
// it writes a page, plain text, or nothing at all; a JSON answer ends with
// the API set, whatever the handler set of the document-only headers.
func TestAPIHeadersByResponse(t *testing.T) {
	base, doc, err := splitPolicy(secheaders.Default(false))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		api     bool
		want    map[string]string // extra expectations
	}{
		{"json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Permissions-Policy", "camera=(self)")
			writeJSON(w, http.StatusOK, map[string]int{"views": 1})
		}, true, nil},
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<p>hi"))
		}, false, nil},
		{"plain text", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTeapot)
		}, false, nil},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, false, nil},
		{"page replaces one", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
			_, _ = w.Write([]byte("<p>popup"))
		}, false, map[string]string{"Cross-Origin-Opener-Policy": "same-origin-allow-popups"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			base.Handler(apiHeaders(doc, tc.handler)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			h := rec.Header()
			for _, d := range doc {
				got := h.Get(d.name)
				want := d.val[0]
				if w, ok := tc.want[d.name]; ok {
					want = w
				}
				if tc.api {
					want = ""
				}
				if got != want {
					t.Errorf("%s: got %q, want %q", d.name, got, want)
				}
			}
			csp := h.Get("Content-Security-Policy")
			if tc.api != (csp == apiCSP[0]) {
				t.Errorf("Content-Security-Policy: got %q (api=%v)", csp, tc.api)
			}
			for _, name := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Resource-Policy"} {
				if h.Get(name) == "" {
					t.Errorf("%s: got none, want it on every response", name)
				}
			}
		})
	}
}
