package csrf_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tetherhq/tether/csrf"
)

// part is one field of a multipart form; a file part has a filename and
// size bytes of generated content when content is empty.
type part struct {
	name, filename, content string
	size                    int
}

// fileBytes is the generated content of a file part of n bytes: not a
// repeated pattern, so a replay that shifted or dropped bytes changes its
// hash.
func fileBytes(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// multipartBody encodes parts as a browser would, in order.
func multipartBody(t testing.TB, parts []part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var (
			pw  io.Writer
			err error
		)
		if p.filename != "" {
			pw, err = w.CreateFormFile(p.name, p.filename)
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.size > 0 {
			_, _ = pw.Write(fileBytes(p.size))
		} else {
			_, _ = io.WriteString(pw, p.content)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// The token in the csrf_token field of a multipart form is found, and the
// handler still gets the whole form: its fields and its file, byte for
// byte. Regression: only urlencoded bodies were read, so an upload form
// with the right token got 403. The check reads no more than
// MaxBodyBytes before the handler runs, however large the upload.
func TestMultipartForm(t *testing.T) {
	const limit = 64 << 10
	const big = 3 << 20 // well beyond the limit
	type result struct {
		name, fileSum string
		fileSize      int64
		readBefore    int64 // body bytes the check read before the handler ran
	}
	var got result
	var body *countingReader
	a := newApp(t, appConfig{opts: csrf.Options{MaxBodyBytes: limit}, handler: func(w http.ResponseWriter, r *http.Request) {
		got = result{readBefore: body.n.Load()}
		if err := r.ParseMultipartForm(32 << 10); err != nil {
			http.Error(w, "handler: "+err.Error(), 400)
			return
		}
		got.name = r.PostFormValue("name")
		if f, h, err := r.FormFile("upload"); err == nil {
			defer f.Close()
			sum := sha256.New()
			n, _ := io.Copy(sum, f)
			got.fileSize, got.fileSum = n, fmt.Sprintf("%x", sum.Sum(nil))
			if n != h.Size {
				http.Error(w, "handler: short file", 500)
				return
			}
		}
		_, _ = w.Write([]byte("done"))
	}})
	sum := func(n int) string { s := sha256.Sum256(fileBytes(n)); return fmt.Sprintf("%x", s) }
	cases := []struct {
		name       string
		parts      []part
		status     int
		reason     string
		fileSize   int
		maxRead    int64 // bound on what the check may read before the handler
		bodyPrefix string
	}{
		{"token first, then a large file", []part{{name: "csrf_token", content: "TOKEN"}, {name: "name", content: "alice"}, {name: "upload", filename: "a.bin", size: big}}, 200, "", big, 8 << 10, ""},
		{"small file, then the token", []part{{name: "name", content: "alice"}, {name: "upload", filename: "a.bin", size: 10 << 10}, {name: "csrf_token", content: "TOKEN"}}, 200, "", 10 << 10, limit, ""},
		{"token alone", []part{{name: "csrf_token", content: "TOKEN"}, {name: "name", content: "alice"}}, 200, "", 0, limit, ""},
		{"large file, then the token", []part{{name: "upload", filename: "a.bin", size: big}, {name: "csrf_token", content: "TOKEN"}}, 413, "body_too_large", 0, limit, `{"error":"CSRF token not within the first 64 KiB of the form`},
		{"no token field", []part{{name: "name", content: "alice"}, {name: "upload", filename: "a.bin", size: 1000}}, 403, "missing_token", 0, limit, ""},
		{"wrong token", []part{{name: "csrf_token", content: strings.Repeat("0", 64)}, {name: "upload", filename: "a.bin", size: big}}, 403, "bad_token", 0, limit, ""},
		{"a file named csrf_token is not the field", []part{{name: "csrf_token", filename: "t.txt", content: "TOKEN"}}, 403, "missing_token", 0, limit, ""},
		{"the first csrf_token field counts", []part{{name: "csrf_token", content: "nope"}, {name: "csrf_token", content: "TOKEN"}}, 403, "bad_token", 0, limit, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.parts {
				tc.parts[i].content = strings.ReplaceAll(tc.parts[i].content, "TOKEN", a.token)
			}
			raw, ctype := multipartBody(t, tc.parts)
			body = &countingReader{r: bytes.NewReader(raw)}
			req := httptest.NewRequest("POST", "/upload", body)
			req.Header.Set("Content-Type", ctype)
			got = result{readBefore: -1}
			rec := a.serve(req)
			if rec.Code != tc.status {
				t.Fatalf("got %d %q, want %d", rec.Code, rec.Body.String(), tc.status)
			}
			if !strings.HasPrefix(rec.Body.String(), tc.bodyPrefix) {
				t.Fatalf("body: got %q, want it to start with %q", rec.Body.String(), tc.bodyPrefix)
			}
			if tc.status != 200 {
				if f := a.failures(); len(f) != 1 || f[0] != tc.reason {
					t.Fatalf("csrf_failure reasons: got %v, want [%s]", f, tc.reason)
				}
				if n := body.n.Load(); n > tc.maxRead {
					t.Fatalf("the check read %d bytes of the body, want at most %d", n, tc.maxRead)
				}
				return
			}
			if got.readBefore > tc.maxRead {
				t.Fatalf("the check read %d bytes before the handler, want at most %d", got.readBefore, tc.maxRead)
			}
			if got.name != "alice" {
				t.Fatalf("handler's name field: got %q, want alice", got.name)
			}
			if tc.fileSize > 0 && (got.fileSize != int64(tc.fileSize) || got.fileSum != sum(tc.fileSize)) {
				t.Fatalf("handler's file: got %d bytes (sha256 %s), want %d bytes (sha256 %s)", got.fileSize, got.fileSum, tc.fileSize, sum(tc.fileSize))
			}
		})
	}
}

// After the check the handler can stream the form itself with
// r.MultipartReader, from the first part.
func TestMultipartReaderAfterCheck(t *testing.T) {
	var names []string
	a := newApp(t, appConfig{handler: func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			names = append(names, p.FormName())
		}
	}})
	raw, ctype := multipartBody(t, []part{{name: "csrf_token", content: a.token}, {name: "upload", filename: "a", size: 100 << 10}, {name: "last", content: "x"}})
	req := httptest.NewRequest("POST", "/", bytes.NewReader(raw))
	req.Header.Set("Content-Type", ctype)
	if rec := a.serve(req); rec.Code != 200 {
		t.Fatalf("got %d %q, want 200", rec.Code, rec.Body.String())
	}
	if strings.Join(names, ",") != "csrf_token,upload,last" {
		t.Fatalf("parts the handler read: got %v, want [csrf_token upload last]", names)
	}
}

// A urlencoded form is read whole, up to MaxBodyBytes (1 MiB by default).
func TestURLEncodedLimit(t *testing.T) {
	cases := []struct {
		name   string
		limit  int64
		size   int // total body length
		status int
		msg    string
	}{
		{"default limit, at it", 0, csrf.DefaultMaxBodyBytes, 200, ""},
		{"default limit, one byte over", 0, csrf.DefaultMaxBodyBytes + 1, 413, `{"error":"Request body too large (limit 1 MiB)"}`},
		{"configured limit, at it", 1000, 1000, 200, ""},
		{"configured limit, one byte over", 1000, 1001, 413, `{"error":"Request body too large (limit 1000 bytes)"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var name string
			a := newApp(t, appConfig{opts: csrf.Options{MaxBodyBytes: tc.limit}, handler: func(w http.ResponseWriter, r *http.Request) {
				name = r.PostFormValue("name")
			}})
			head := "csrf_token=" + a.token + "&name=alice&pad="
			body := head + strings.Repeat("x", tc.size-len(head))
			req := httptest.NewRequest("POST", "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := a.serve(req)
			if rec.Code != tc.status || (tc.msg != "" && strings.TrimSpace(rec.Body.String()) != tc.msg) {
				t.Fatalf("got %d %q, want %d %s", rec.Code, rec.Body.String(), tc.status, tc.msg)
			}
			if tc.status == 200 && name != "alice" {
				t.Fatalf("handler's name field: got %q, want alice", name)
			}
		})
	}
}

// An http.MaxBytesReader the application set before the check counts as a
// body too large; a body that fails to read is a 400 and not a CSRF
// failure (a client that went away mid-upload forged nothing).
func TestBodyErrors(t *testing.T) {
	a := newApp(t, appConfig{})
	capped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 100)
		a.h.ServeHTTP(w, r)
	})
	req := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a", 200)+"&csrf_token="+a.token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(a.cookie)
	rec := httptest.NewRecorder()
	capped.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "limit 100 bytes") {
		t.Fatalf("MaxBytesReader: got %d %q, want 413 naming the 100-byte limit", rec.Code, rec.Body.String())
	}

	raw, ctype := multipartBody(t, []part{{name: "upload", filename: "a", size: 10 << 10}, {name: "csrf_token", content: a.token}})
	for _, c := range []struct {
		name, ctype string
		body        io.Reader
	}{
		{"urlencoded", "application/x-www-form-urlencoded", io.MultiReader(strings.NewReader("name=alice&"), failingReader{})},
		{"multipart", ctype, io.MultiReader(bytes.NewReader(raw[:5000]), failingReader{})},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/", c.body)
			req.Header.Set("Content-Type", c.ctype)
			rec := a.serve(req)
			if rec.Code != 400 || strings.TrimSpace(rec.Body.String()) != `{"error":"Could not read the request body"}` {
				t.Fatalf("got %d %q, want 400 Could not read the request body", rec.Code, rec.Body.String())
			}
			if f := a.failures(); len(f) != 0 {
				t.Fatalf("csrf_failure events: got %v, want none", f)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, errors.New("read tcp: connection reset by peer")
}

// FuzzCheckBody sends arbitrary bodies and content types without the
// header. The check must never panic, must hand the handler the body
// exactly as sent, must never accept a request whose form does not carry
// the session's token, and answers only 200, 400, 403 or 413.
func FuzzCheckBody(f *testing.F) {
	var seen []byte
	var readErr error
	a := newApp(f, appConfig{opts: csrf.Options{MaxBodyBytes: 4096}, handler: func(w http.ResponseWriter, r *http.Request) {
		seen, readErr = io.ReadAll(r.Body)
	}})
	const ctypeURL = "application/x-www-form-urlencoded"
	f.Add(ctypeURL, "csrf_token="+a.token)
	f.Add(ctypeURL, "a=%zz&csrf_token="+a.token)
	f.Add(ctypeURL, "csrf_token="+a.token[:63]+"%30")
	f.Add(ctypeURL, "csrf_token=&csrf_token="+a.token)
	raw, ctype := multipartBody(f, []part{{name: "csrf_token", content: a.token}, {name: "f", filename: "x", size: 5000}})
	f.Add(ctype, string(raw))
	raw, ctype = multipartBody(f, []part{{name: "f", filename: "x", size: 100}, {name: "csrf_token", content: a.token}})
	f.Add(ctype, string(raw))
	f.Add(`multipart/form-data; boundary="b"`, "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"+a.token+"\r\n--b--\r\n")
	f.Add("multipart/form-data", "--b\r\n\r\n")
	f.Add("text/plain", "csrf_token="+a.token)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		seen, readErr = nil, nil
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := a.serve(req)
		switch rec.Code {
		case 200:
			if readErr != nil || string(seen) != body {
				t.Fatalf("handler read %q (%v), want the body as sent", seen, readErr)
			}
			if !formHasToken(ctype, body, a.token) {
				t.Fatalf("accepted a form without the token: %q %q", ctype, body)
			}
		case 400, 403, 413:
		default:
			t.Fatalf("status %d %q, want 200, 400, 403 or 413", rec.Code, rec.Body.String())
		}
	})
}

// formHasToken parses body the way a handler would and reports whether its
// first csrf_token value is token.
func formHasToken(ctype, body, token string) bool {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if strings.HasPrefix(strings.ToLower(ctype), "multipart/") {
		// The check stops at the token field; the form may be malformed
		// further on, so read parts only up to it.
		mr, err := req.MultipartReader()
		if err != nil {
			return false
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false
			}
			if p.FormName() == csrf.FormField && p.FileName() == "" {
				v, err := io.ReadAll(p)
				return err == nil && string(v) == token
			}
		}
	}
	return req.ParseForm() == nil && req.PostForm.Get(csrf.FormField) == token
}

// BenchmarkMultipartUpload measures the check on an 8 MiB upload whose
// csrf_token field comes first, the handler streaming the body away:
// B/op is what the check (and the session middleware) allocate, not the
// size of the upload.
func BenchmarkMultipartUpload(b *testing.B) {
	a := newApp(b, appConfig{handler: func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}})
	raw, ctype := multipartBody(b, []part{{name: "csrf_token", content: a.token}, {name: "upload", filename: "a.bin", size: 8 << 20}})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(raw))
		req.Header.Set("Content-Type", ctype)
		if rec := a.serve(req); rec.Code != 200 {
			b.Fatalf("got %d %q, want 200", rec.Code, rec.Body.String())
		}
	}
}
