package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/secheaders"
)

// The pages' templates and their static files, embedded: the server has no
// build step and serves nothing from the disk.
//
//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the pages; each is templates/NAME.html with the layout.
var pageNames = []string{"login", "account", "admin", "error"}

// pages holds the parsed templates, one set per page.
type pages struct {
	sets map[string]*template.Template
}

// newPages parses the embedded templates, then those of extra (which may
// be nil): a file of extra with the name of an embedded one replaces it
// (Options.Templates).
func newPages(extra fs.FS) (*pages, error) {
	funcs := template.FuncMap{
		"utc":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":     ago,
		"isAdmin": func(role string) bool { return role == users.RoleAdmin },
		"reauthForm": func(help, next, csrf, errMsg string) reauthForm {
			return reauthForm{Help: help, Next: next, CSRF: csrf, Error: errMsg}
		},
	}
	read := func(name string) (string, error) {
		if extra != nil {
			if b, err := fs.ReadFile(extra, name); err == nil {
				return string(b), nil
			}
		}
		b, err := templateFS.ReadFile("templates/" + name)
		return string(b), err
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	partials, err := read("partials.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		body, err := read(name + ".html")
		if err != nil {
			return nil, err
		}
		t, err := template.New(name).Funcs(funcs).Parse(layout)
		if err == nil {
			_, err = t.Parse(partials)
		}
		if err == nil {
			_, err = t.Parse(body)
		}
		if err != nil {
			return nil, fmt.Errorf("server: template %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// view is what every page's template gets.
type view struct {
	Title  string
	Nonce  string // the request's CSP nonce (package secheaders)
	CSRF   string // the session's CSRF token, for forms that change something
	User   *viewUser
	Active string // "account" or "admin": the nav entry of this page
	Notice string // a confirmation (role=status)
	Body   any    // the page's own data
}

type viewUser struct{ Username, Role string }

// reauthForm is what the "reauth" partial (partials.html) gets: the
// re-authentication card of the account and admin pages.
type reauthForm struct{ Help, Next, CSRF, Error string }

func (u *viewUser) IsAdmin() bool { return u != nil && u.Role == users.RoleAdmin }

// render writes page name with status. The page is rendered into memory
// first, so a template failure is a clean 500 rather than half a page. It
// sets the view's nonce, and its CSRF token and user when the session is
// signed in. A bound session refused for want of its bound cookie
// (dbscRequired) counts as signed out: its page must not greet the user
// whose cookie was presented, since that may be a thief's copy.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Nonce = secheaders.Nonce(r)
	if sess, ok := tether.Lookup(r.Context()); ok && sess.UserID() != "" && !s.dbscRequired(r) {
		v.User = &viewUser{Username: sess.GetString("username"), Role: sess.GetString("role")}
		tok, err := csrf.Token(r)
		if err != nil {
			s.sessionError(w, r, err)
			return
		}
		v.CSRF = tok
	}
	var buf bytes.Buffer
	if err := s.pages.sets[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("page template", "page", name, "err", err)
		tether.WriteJSONError(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ago is a duration in words for people ("3 minutes ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// static serves GET /static/{file}: the pages' stylesheet and script, from
// this origin (the CSP allows no other), cached for an hour.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		tether.WriteJSONError(w, http.StatusNotFound, "Not found")
		return
	}
	ct := "text/plain; charset=utf-8"
	switch {
	case len(name) > 4 && name[len(name)-4:] == ".css":
		ct = "text/css; charset=utf-8"
	case len(name) > 3 && name[len(name)-3:] == ".js":
		ct = "text/javascript; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}
