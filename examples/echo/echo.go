// Package echoapp is tether on github.com/labstack/echo/v4: the same JSON
// API as the servemux example, in echo's style.
//
// echo.WrapMiddleware turns net/http middleware into echo middleware, and
// it hands the wrapped writer on to the handlers (c.Response() writes
// through it), so tether still saves the session just before the first
// byte and the CSRF protector's refusals stop the chain:
//
//	e.Use(echo.WrapMiddleware(m.Handler), echo.WrapMiddleware(p.Handler))
//
// Handlers find their session with tether.FromContext(c.Request().Context())
// and return errors as echo does; [sessionError] maps a session error to an
// echo.HTTPError with tether's status (503 for a store outage).
//
// Routes:
//
//	GET  /csrf-token  {"csrfToken":"…"}: the token to send back as X-CSRF-Token
//	POST /login       form username, password → {"user":"alice"} (401 if wrong)
//	GET  /me          {"user":"alice"} (401 when signed out)
//	POST /counter     {"count":n}, incremented atomically in the store (401 when signed out)
//	POST /logout      {"ok":true}: the session is deleted and its cookie expired
//
// # Real use
//
// The tests use memstore. A server keeps sessions in SQLite (one instance)
// or Redis (several), with a secret of at least 32 random bytes:
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	// or: store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	e, err := echoapp.New(m)
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(e.Start(":8080"))
package echoapp

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/demo"
)

// session returns the request's tether session.
func session(c echo.Context) *tether.Session {
	return tether.FromContext(c.Request().Context())
}

// sessionError turns an error from a Session method into an echo.HTTPError
// with the status and message tether gives it (never a token or store key).
func sessionError(err error) error {
	status, msg := tether.StatusOf(err)
	return echo.NewHTTPError(status, msg).SetInternal(err)
}

// New returns the echo app with m's session middleware and a CSRF
// protector. It fails only if the CSRF protector cannot be built.
func New(m *tether.Manager) (*echo.Echo, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.Use(echo.WrapMiddleware(m.Handler), echo.WrapMiddleware(p.Handler))

	e.GET("/csrf-token", func(c echo.Context) error {
		tok, err := csrf.Token(c.Request()) // creates the session on first use
		if err != nil {
			return sessionError(err)
		}
		return c.JSON(http.StatusOK, map[string]string{"csrfToken": tok})
	})
	e.POST("/login", func(c echo.Context) error {
		if !demo.CheckPassword(c.FormValue("username"), c.FormValue("password")) {
			return echo.NewHTTPError(http.StatusUnauthorized, "Wrong username or password")
		}
		s := session(c)
		// Login issues a new token (the pre-login one dies at once) and
		// keeps the session's values, its CSRF token among them.
		if err := s.Login(demo.UserID, "user"); err != nil {
			return sessionError(err)
		}
		if err := s.Set("name", demo.User); err != nil {
			return sessionError(err)
		}
		return c.JSON(http.StatusOK, map[string]string{"user": demo.User})
	})
	e.POST("/logout", func(c echo.Context) error {
		session(c).Logout() // record deleted, cookie expired
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	})

	// Route middleware rather than e.Group("", signedIn): a group with
	// middleware also catches unknown paths, which would answer 401, not 404.
	e.GET("/me", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"user": session(c).GetString("name")})
	}, signedIn)
	e.POST("/counter", func(c echo.Context) error {
		n, err := session(c).Incr(c.Request().Context(), "count", 1) // atomic in the store
		if err != nil {
			return sessionError(err)
		}
		return c.JSON(http.StatusOK, map[string]int64{"count": n})
	}, signedIn)
	return e, nil
}

// signedIn is echo middleware that lets only signed-in sessions through and
// answers 401 otherwise. A store outage answers 503 rather than looking like
// a signed-out user.
func signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s := session(c)
		if err := s.Err(); err != nil {
			return sessionError(err)
		}
		if s.UserID() == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "Not signed in")
		}
		return next(c)
	}
}
