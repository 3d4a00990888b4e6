package server

import (
	"net/http"
	"sort"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// The HTML pages (issue 15): GET /login, GET /account, GET /admin. They are
// server-rendered (render.go), work without JavaScript, and post their
// forms to the JSON routes, which answer a browser's form with a 303 to a
// page (forms.go). A page asked for without a live session answers 303 to
// /login?next=PATH&reason=WHY (endreason.go).

// loginView is the sign-in page's data.
type loginView struct {
	Next, Username string
	Reason         string // why the last session ended, from reasonMessages
	Error          string // the failed attempt's message
	RetryAt        string // when throttled: the time a new attempt is allowed
}

// loginPage handles GET /login. A browser already signed in goes on to
// next; otherwise the form, with the message of ?reason= when it is one of
// the fixed list.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	next := safeNext(q.Get("next"), "/account")
	if tether.FromContext(r.Context()).UserID() != "" && !s.dbscRequired(r) {
		seeOther(w, next)
		return
	}
	v := loginView{Next: next, Reason: reasonMessages[q.Get("reason")]}
	s.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Body: v})
}

// page guards a page: without an authenticated session it answers 303 to
// the sign-in page, which returns here; with one it runs the same checks as
// the JSON routes (binding, account re-check; admin pages re-read the role),
// and a session those checks end goes to the sign-in page too, with why.
func (s *Server) page(admin bool, next http.HandlerFunc) http.HandlerFunc {
	guarded := s.requireAuth(next)
	if admin {
		guarded = s.requireAdmin(next)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		r = withEndNote(r)
		sess := tether.FromContext(r.Context())
		if sess.UserID() == "" {
			if err := sess.Err(); err != nil {
				s.sessionError(w, r, err) // the store is down: 503, not a sign-out
				return
			}
			seeOther(w, loginURL(r.URL.RequestURI(), s.endReason(r, time.Now())))
			return
		}
		ew := &endedWriter{ResponseWriter: w}
		guarded(ew, r)
		if ew.ended {
			reason := s.endReason(r, time.Now())
			if reason == "" || reason == reasonSignedOut {
				reason = reasonRevoked
			}
			seeOther(w, loginURL(r.URL.RequestURI(), reason))
		}
	}
}

// endedWriter turns the guards' 401 (the session ended during the checks:
// a disabled account, a strict binding refusal) into nothing, for page to
// redirect instead; anything else passes.
type endedWriter struct {
	http.ResponseWriter
	ended, passed bool
}

func (w *endedWriter) WriteHeader(code int) {
	if !w.passed && code == http.StatusUnauthorized {
		w.ended = true
		return
	}
	w.passed = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *endedWriter) Write(b []byte) (int, error) {
	if w.ended {
		return len(b), nil
	}
	w.passed = true
	return w.ResponseWriter.Write(b)
}

func (w *endedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// deviceView is one session in a devices list.
type deviceView struct {
	ID, Device, IP    string
	Created, LastSeen time.Time
	Current           bool
	Bound             bool // the session is device-bound (DBSC, dbsc.go)
}

func devicesOf(list []sessionJSON) []deviceView {
	out := make([]deviceView, 0, len(list))
	for _, j := range list {
		seen := j.LastSeenAt
		if seen.IsZero() {
			seen = j.CreatedAt
		}
		out = append(out, deviceView{ID: j.ID, Device: parseUserAgent(j.UserAgent).String(), IP: j.IP,
			Created: j.CreatedAt, LastSeen: seen, Current: j.Current, Bound: j.DeviceBound})
	}
	// This device first, then the most recently seen.
	sort.SliceStable(out, func(i, k int) bool {
		if out[i].Current != out[k].Current {
			return out[i].Current
		}
		return out[i].LastSeen.After(out[k].LastSeen)
	})
	return out
}

// accountView is the account page's data.
type accountView struct {
	Username, Role string
	This           deviceView
	IdleUntil      time.Time
	AbsoluteUntil  time.Time
	Devices        []deviceView
	Others         int
	NeedsReauth    bool
	ReauthUntil    time.Time
	ReauthError    string
	PasswordError  string
	PasswordField  string // "currentPassword" or "newPassword": the field PasswordError is about
}

// formError is a failed form post shown on its page: the message and the
// field it is about ("" for the form as a whole).
type formError struct{ form, field, msg string }

// accountPage handles GET /account.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, http.StatusOK, formError{}, r.URL.Query().Get("done"))
}

// doneMessages are the confirmations a page shows after a form post
// (?done=CODE, from this fixed list).
var doneMessages = map[string]string{
	"password":      "Your password was changed. Your other devices were signed out.",
	"reauth":        "Thanks, your identity is confirmed for the next few minutes.",
	"others":        "Your other devices were signed out.",
	"device":        "That device was signed out.",
	"user_sessions": "The user's sessions were ended.",
	"session":       "The session was ended.",
	"disabled":      "The account was disabled and its sessions ended.",
	"enabled":       "The account was enabled.",
	"all":           "Every session was ended.",
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, status int, fe formError, done string) {
	sess := tether.FromContext(r.Context())
	list, ok := s.userSessions(w, r, sess.UserID(), sess.PublicID())
	if !ok {
		return
	}
	v := accountView{Username: sess.GetString("username"), Role: sess.GetString("role"), Devices: devicesOf(list)}
	for _, d := range v.Devices {
		if d.Current {
			v.This = d
		} else {
			v.Others++
		}
	}
	v.IdleUntil, v.AbsoluteUntil = sess.Deadlines()
	v.NeedsReauth, v.ReauthUntil = s.needsReauth(sess)
	switch fe.form {
	case "reauth":
		v.ReauthError = fe.msg
	case "password":
		v.PasswordError, v.PasswordField = fe.msg, fe.field
	}
	s.signedIn(w, v.IdleUntil, v.AbsoluteUntil)
	s.render(w, r, status, "account", view{Title: "My account", Active: "account", Notice: doneMessages[done], Body: v})
}

// needsReauth reports whether sensitive actions need a fresh password
// (requireRecentAuth's test), and else until when they do not.
func (s *Server) needsReauth(sess *tether.Session) (bool, time.Time) {
	until := sess.AuthenticatedAt().Add(s.reauthWindow)
	return sess.GetBool(bindMismatchKey) || time.Now().After(until), until
}

// adminUserView is one user on the admin page.
type adminUserView struct {
	users.User
	Sessions []deviceView
	Self     bool
}

type adminView struct {
	Users       []adminUserView
	Sessions    int
	NeedsReauth bool
	ReauthUntil time.Time
	ReauthError string
}

// adminPage handles GET /admin: every user with role, state and sessions.
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	s.showAdmin(w, r, http.StatusOK, formError{}, r.URL.Query().Get("done"))
}

func (s *Server) showAdmin(w http.ResponseWriter, r *http.Request, status int, fe formError, done string) {
	sess := tether.FromContext(r.Context())
	all, err := s.users.List(r.Context())
	if err != nil {
		s.credentialError(w, err, checkRefusals)
		return
	}
	v := adminView{ReauthError: fe.msg}
	v.NeedsReauth, v.ReauthUntil = s.needsReauth(sess)
	for _, u := range all {
		list, ok := s.userSessions(w, r, u.ID, sess.PublicID())
		if !ok {
			return
		}
		v.Users = append(v.Users, adminUserView{User: u, Sessions: devicesOf(list), Self: u.ID == sess.UserID()})
		v.Sessions += len(list)
	}
	idle, abs := sess.Deadlines()
	s.signedIn(w, idle, abs)
	s.render(w, r, status, "admin", view{Title: "Admin", Active: "admin", Notice: doneMessages[done], Body: v})
}
