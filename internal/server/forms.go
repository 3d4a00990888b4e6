package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tetherhq/tether"
)

// A form post from one of the pages goes to the same route as a JSON client
// (POST /login, /logout, /password, /reauth, /sessions/…, /admin/…), and
// forms turns the route's JSON answer into what a browser needs: a 303 to
// a page on success (post/redirect/get), the page again with the error next
// to its field for a failed password check, the sign-in page when the
// session has ended. A browser form is a urlencoded POST whose Accept
// prefers HTML; every other request passes through untouched, so API
// clients keep their JSON.
//
// HTML forms can only GET and POST: a form for a DELETE route posts with a
// hidden field _method=DELETE, and forms turns that POST into the DELETE
// before the CSRF check and the routing (both see DELETE: an unsafe method
// either way), on the paths that have DELETE routes (/sessions/…,
// /admin/…). No other method can be asked for, and a GET never changes.

// browserForm reports whether r is a form posted by a browser page.
func browserForm(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded" && prefersHTML(r.Header.Get("Accept"))
}

// forms runs inside the session middleware (the pages it renders need the
// session) and outside the CSRF check (which must see the overridden
// method).
func (s *Server) forms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !browserForm(r) {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			writeError(w, bodyErr(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		vals, _ := url.ParseQuery(string(raw)) // a malformed body is the route's to refuse
		if vals.Get("_method") == http.MethodDelete && (strings.HasPrefix(r.URL.Path, "/sessions/") || strings.HasPrefix(r.URL.Path, "/admin/")) {
			r.Method = http.MethodDelete // only where DELETE routes are
		}
		r = withEndNote(r)
		fw := &formWriter{ResponseWriter: w}
		next.ServeHTTP(fw, r)
		s.answerForm(w, r, vals, fw)
	})
}

// formWriter keeps a route's answer (it is small JSON) for answerForm; the
// headers the route sets go straight to the response.
type formWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (f *formWriter) WriteHeader(code int) {
	if f.status == 0 {
		f.status = code
	}
}

func (f *formWriter) Write(b []byte) (int, error) {
	if f.status == 0 {
		f.status = http.StatusOK
	}
	if f.body.Len() < 64<<10 {
		f.body.Write(b)
	}
	return len(b), nil
}

// answerForm answers a browser form from the route's answer fw.
func (s *Server) answerForm(w http.ResponseWriter, r *http.Request, vals url.Values, fw *formWriter) {
	status := fw.status
	if status == 0 {
		status = http.StatusOK
	}
	path := r.URL.Path
	back := safeNext(vals.Get("next"), "/account")
	sess := tether.FromContext(r.Context())
	msg := jsonError(fw.body.Bytes())
	switch {
	case status < 300 && (path == "/logout" || sess.UserID() == ""):
		// Signed out: by /logout, or by ending this device's own session.
		s.signedOut(w)
		seeOther(w, loginURL("", reasonSignedOut))
	case status < 300 && path == "/login":
		seeOther(w, back)
	case status < 300:
		seeOther(w, withDone(back, doneCode(r.Method, path)))
	case path == "/login":
		s.showLogin(w, r, status, vals, msg)
	case status == http.StatusUnauthorized && sess.UserID() == "":
		seeOther(w, loginURL(back, s.endReason(r, time.Now())))
	case (path == "/password" || path == "/reauth") && status != http.StatusForbidden && sess.UserID() != "":
		// A failed password check of a signed-in page (not a refused
		// origin or CSRF token: those get the error page, below).
		form, field := strings.TrimPrefix(path, "/"), ""
		switch {
		case path == "/password" && status == http.StatusBadRequest:
			field = "newPassword"
		case path == "/password" && msg == "Invalid credentials":
			field = "currentPassword"
		}
		fe := formError{form: form, field: field, msg: formMessage(status, msg, w.Header().Get("Retry-After"))}
		if strings.HasPrefix(back, "/admin") {
			s.requireAdmin(func(w http.ResponseWriter, r *http.Request) { s.showAdmin(w, r, status, fe, "") })(w, r)
			return
		}
		s.showAccount(w, r, status, fe, "")
	default:
		// Any other refusal as the route gave it; htmlErrors makes it a page.
		w.WriteHeader(status)
		_, _ = w.Write(fw.body.Bytes())
	}
}

// showLogin renders the sign-in page again after a failed attempt, with its
// status (401, 429 with Retry-After, 400, 503). The message is the same for
// an unknown user, a wrong password and a disabled account (no user
// enumeration: the route already answers them alike).
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, vals url.Values, msg string) {
	v := loginView{Next: safeNext(vals.Get("next"), "/account"), Username: vals.Get("username")}
	if len(v.Username) > maxUsernameBytes {
		v.Username = ""
	}
	v.Error = formMessage(status, msg, w.Header().Get("Retry-After"))
	if status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(w.Header().Get("Retry-After")); err == nil {
			v.RetryAt = time.Now().Add(time.Duration(n) * time.Second).UTC().Format("15:04 UTC")
		}
	}
	s.render(w, r, status, "login", view{Title: "Sign in", Body: v})
}

// formMessage words a route's refusal for a person.
func formMessage(status int, msg, retryAfter string) string {
	switch {
	case msg == "Invalid credentials":
		return "The username or password is incorrect."
	case msg == "Re-authentication required":
		return "For your security, confirm your password first (below), then try again."
	case status == http.StatusTooManyRequests:
		wait := "a few minutes"
		if n, err := strconv.Atoi(retryAfter); err == nil && n > 0 {
			wait = inWords(time.Duration(n) * time.Second)
		}
		return "Too many failed attempts. For your security, try again in " + wait + "."
	case msg == "username and password are required":
		return "Enter your username and your password."
	case strings.HasPrefix(msg, "newPassword is too short"):
		return "The new password is too short: use at least 8 characters."
	case strings.HasPrefix(msg, "newPassword is too long"):
		return "The new password is too long: use at most 1024 bytes."
	case strings.HasPrefix(msg, "currentPassword and newPassword are required"):
		return "Enter your current password and a new one."
	case status == http.StatusServiceUnavailable:
		return "This is temporarily unavailable. Try again in a moment."
	}
	if msg == "" {
		return http.StatusText(status)
	}
	return msg
}

// inWords is a wait for people: "45 seconds", "3 minutes".
func inWords(d time.Duration) string {
	if d < time.Minute {
		return plural(int(d/time.Second), "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}

// doneCode names, for the page a form returns to, what the form did.
func doneCode(method, path string) string {
	switch {
	case path == "/password", path == "/reauth":
		return path[1:]
	case path == "/sessions/revoke-others":
		return "others"
	case strings.HasPrefix(path, "/sessions/"):
		return "device"
	case path == "/admin/sessions":
		return "all"
	case strings.HasSuffix(path, "/disable"):
		return "disabled"
	case strings.HasSuffix(path, "/enable"):
		return "enabled"
	case strings.HasPrefix(path, "/admin/users/") && strings.HasSuffix(path, "/sessions"):
		return "user_sessions"
	case strings.HasPrefix(path, "/admin/users/"):
		return "session"
	}
	return ""
}

func withDone(back, code string) string {
	if code == "" {
		return back
	}
	if strings.Contains(back, "?") {
		return back + "&done=" + code
	}
	return back + "?done=" + code
}

// jsonError is the message of a {"error":…} answer, "" for anything else.
func jsonError(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error
}

// seeOther answers 303 to url (a path of this origin), with no body; a
// Content-Type set by a route whose answer this replaces is dropped.
func seeOther(w http.ResponseWriter, url string) {
	h := w.Header()
	h.Del("Content-Type")
	h.Del("Content-Length")
	h.Set("Location", url)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}
