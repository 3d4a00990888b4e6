// Package ginapp is tether on github.com/gin-gonic/gin: the same JSON API
// as the servemux example, in gin's style.
//
// gin middleware has its own shape (gin.HandlerFunc), and a gin handler
// writes through c.Writer, a writer gin made before any middleware ran. A
// gin.HandlerFunc that merely called tether's middleware would leave
// c.Writer pointing past tether's writer: the session would be saved after
// gin had already sent the headers, and its Set-Cookie lost. The cleanest
// way is the other way round: a *gin.Engine is an http.Handler, so tether's
// middleware wraps the engine, and gin then builds c.Writer on top of
// tether's writer:
//
//	h := m.Handler(p.Handler(engine)) // session, CSRF check, then gin's routing
//
// The adapter is one line, [session], which finds the request's session
// from a *gin.Context; the signed-in check is ordinary gin middleware
// ([signedIn]) on a route group. Every route of the engine is inside the
// session middleware, which costs no store call for a request that does not
// use its session. (With engine.ContextWithFallback = true,
// tether.FromContext(c) works on the gin.Context itself.)
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
// The tests use memstore. A server keeps sessions in Redis (several
// instances) or SQLite (one), with a secret of at least 32 random bytes:
//
//	store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	// or: store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	gin.SetMode(gin.ReleaseMode)
//	h, err := ginapp.New(m)
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(http.ListenAndServe(":8080", h)) // not engine.Run, which would skip tether
package ginapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/demo"
)

// session returns the request's tether session: the whole adapter.
func session(c *gin.Context) *tether.Session {
	return tether.FromContext(c.Request.Context())
}

// abortWith ends the request with the status and message tether gives err
// (503 for a store outage; never a token or store key).
func abortWith(c *gin.Context, err error) {
	status, msg := tether.StatusOf(err)
	_ = c.Error(err)
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// New returns the gin engine inside m's session middleware and a CSRF
// protector. It fails only if the CSRF protector cannot be built.
func New(m *tether.Manager) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(gin.Recovery())

	r.GET("/csrf-token", func(c *gin.Context) {
		tok, err := csrf.Token(c.Request) // creates the session on first use
		if err != nil {
			abortWith(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"csrfToken": tok})
	})
	r.POST("/login", func(c *gin.Context) {
		if !demo.CheckPassword(c.PostForm("username"), c.PostForm("password")) {
			c.JSON(http.StatusUnauthorized, gin.H{"error": "Wrong username or password"})
			return
		}
		s := session(c)
		// Login issues a new token (the pre-login one dies at once) and
		// keeps the session's values, its CSRF token among them.
		if err := s.Login(demo.UserID, "user"); err != nil {
			abortWith(c, err)
			return
		}
		if err := s.Set("name", demo.User); err != nil {
			abortWith(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": demo.User})
	})
	r.POST("/logout", func(c *gin.Context) {
		session(c).Logout() // record deleted, cookie expired
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})

	user := r.Group("/", signedIn)
	user.GET("/me", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": session(c).GetString("name")})
	})
	user.POST("/counter", func(c *gin.Context) {
		n, err := session(c).Incr(c.Request.Context(), "count", 1) // atomic in the store
		if err != nil {
			abortWith(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"count": n})
	})
	return m.Handler(p.Handler(r)), nil
}

// signedIn is gin middleware that lets only signed-in sessions through and
// answers 401 otherwise. A store outage answers 503 rather than looking like
// a signed-out user.
func signedIn(c *gin.Context) {
	s := session(c)
	if err := s.Err(); err != nil {
		abortWith(c, err)
		return
	}
	if s.UserID() == "" {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "Not signed in"})
		return
	}
	c.Next()
}
