package csrf_test

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"log"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/secheaders"
)

// A form page issues the session's token with csrf.Token; the form posts it
// back in the csrf_token field (an API client sends the X-CSRF-Token header
// instead). A post without it, or from another origin, is refused with 403
// before the handler runs.
func ExampleProtector_Handler() {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		// In a template: <input type="hidden" name="csrf_token" value="{{.}}">
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "transferred")
	})
	h := m.Handler(p.Handler(mux)) // csrf runs inside the session middleware

	// The browser loads the form: a session cookie and a token.
	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/form", nil))
	token := page.Body.String()
	cookies := page.Result().Cookies()

	post := func(body string, origin string) string {
		req := httptest.NewRequest("POST", "/transfer", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return fmt.Sprint(rec.Code, " ", strings.TrimSpace(rec.Body.String()))
	}
	fmt.Println(post("amount=10&csrf_token="+token, ""))
	fmt.Println(post("amount=10", ""))
	fmt.Println(post("amount=10&csrf_token="+token, "https://evil.example"))
	// Output:
	// 200 transferred
	// 403 {"error":"Invalid CSRF token"}
	// 403 {"error":"Cross-origin request refused"}
}

// An htmx page: the token in a meta tag, and an inline script (allowed by
// the request's CSP nonce from secheaders) that copies it into the
// X-CSRF-Token header of every htmx request to this origin. The example
// renders the page, reads the meta tag and the nonce as a browser would, and
// sends the request htmx would send for the button.
func Example_htmx() {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Parse(`<!doctype html>
<html>
<head>
  <meta name="csrf-token" content="{{.CSRFToken}}">
  <script src="/static/htmx.min.js"></script>
  <script nonce="{{.Nonce}}">
    document.addEventListener("htmx:configRequest", function (e) {
      if (new URL(e.detail.path, location.href).origin !== location.origin) return;
      e.detail.headers["X-CSRF-Token"] =
        document.querySelector('meta[name="csrf-token"]').content;
    });
  </script>
</head>
<body><button hx-post="/like" hx-swap="outerHTML">Like</button></body>
</html>`))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct{ CSRFToken, Nonce string }{tok, secheaders.Nonce(r)})
	})
	mux.HandleFunc("POST /like", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<button disabled>Liked</button>`)
	})
	h := secheaders.Default(false).Handler(m.Handler(p.Handler(mux)))

	// The browser loads the page.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	doc := rec.Body.String()
	token := regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]{64})">`).FindStringSubmatch(doc)[1]
	// html/template escapes a nonce's + as &#43;, which the browser decodes.
	nonce := html.UnescapeString(regexp.MustCompile(`<script nonce="([^"]+)">`).FindStringSubmatch(doc)[1])
	csp := rec.Header().Get("Content-Security-Policy")
	fmt.Println("CSP allows the inline script:", strings.Contains(csp, "script-src 'self' 'nonce-"+nonce+"'"))

	// htmx sends the button's POST, with the header the script set.
	like := func(header string) {
		req := httptest.NewRequest("POST", "/like", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if header != "" {
			req.Header.Set(csrf.HeaderName, header)
		}
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		out := httptest.NewRecorder()
		h.ServeHTTP(out, req)
		fmt.Println(out.Code, strings.TrimSpace(out.Body.String()))
	}
	like(token)
	like("") // a page without the script
	// Output:
	// CSP allows the inline script: true
	// 200 <button disabled>Liked</button>
	// 403 {"error":"Invalid CSRF token"}
}

// An HTML application answers refusals with its own page: ErrorHandler
// receives the error and StatusOf gives the status to use.
func ExampleNew_htmlErrorPage() {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		log.Fatal(err)
	}
	errorPage := template.Must(template.New("error").Parse(`<!doctype html><title>{{.Status}}</title><p>{{.Message}}. Reload the page and try again.</p>`))
	p, err := csrf.New(csrf.Options{
		Manager: m,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, msg := csrf.StatusOf(err)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_ = errorPage.Execute(w, struct {
				Status  int
				Message string
			}{status, msg})
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := m.Handler(p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "saved")
	})))

	req := httptest.NewRequest("POST", "/settings", strings.NewReader("theme=dark"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 403 <!doctype html><title>403</title><p>Invalid CSRF token. Reload the page and try again.</p>
}

// An upload form puts its hidden csrf_token input before the file input:
// browsers send fields in document order, so the check reads the token from
// the first bytes of the body and leaves the file, unread, to the handler.
// MaxBodyBytes bounds how far the check looks.
func ExampleOptions_upload() {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m, MaxBodyBytes: 64 << 10})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /upload", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := csrf.Token(r)
		// <form method="post" enctype="multipart/form-data">
		//   <input type="hidden" name="csrf_token" value="{{.}}">
		//   <input type="file" name="photo">
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		f, hdr, err := r.FormFile("photo") // the whole form, as sent
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer f.Close()
		fmt.Fprintf(w, "stored %s (%d bytes)", hdr.Filename, hdr.Size)
	})
	h := m.Handler(p.Handler(mux))

	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/upload", nil))
	upload := func(tokenFirst bool) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if tokenFirst {
			_ = mw.WriteField("csrf_token", page.Body.String())
		}
		fw, _ := mw.CreateFormFile("photo", "cat.jpg")
		_, _ = fw.Write(make([]byte, 5<<20)) // 5 MiB, beyond MaxBodyBytes
		if !tokenFirst {
			_ = mw.WriteField("csrf_token", page.Body.String())
		}
		_ = mw.Close()
		req := httptest.NewRequest("POST", "/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		for _, c := range page.Result().Cookies() {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	upload(true)
	upload(false)
	// Output:
	// 200 stored cat.jpg (5242880 bytes)
	// 413 {"error":"CSRF token not within the first 64 KiB of the form (put the csrf_token field before file fields, or send the X-CSRF-Token header)"}
}
