package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest sends req on a new connection to the server at base and reads
// the answer.
func rawRequest(t *testing.T, base, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, string(b)
}

// The answers net/http writes itself, before any handler (431 for a ~70 KB
// Cookie header, 400, 501, 505), are JSON from the real server, like every
// other error; an ordinary request on the same server is untouched.
func TestStdlibErrorsAreJSON(t *testing.T) {
	in := start(t, t.TempDir(), env())
	cases := []struct {
		name   string
		req    string
		status int
		error  string
	}{
		{"70 KB Cookie header", "GET /views HTTP/1.1\r\nHost: localhost\r\nCookie: big=" + strings.Repeat("x", 72<<10) + "\r\n\r\n",
			431, "Request headers too large"},
		{"no Host", "GET /views HTTP/1.1\r\n\r\n", 400, "Bad Request: missing required Host header"},
		{"malformed request line", "GARBAGE\r\n\r\n", 400, "Bad Request"},
		{"unknown transfer encoding", "POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: rot13\r\n\r\n", 501, "Unsupported transfer encoding"},
		{"unknown protocol version", "GET /views HTTP/9.9\r\nHost: localhost\r\n\r\n", 505, "HTTP Version Not Supported: unsupported protocol version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, in.base, tc.req)
			var got struct{ Error string }
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &got) != nil || got.Error != tc.error {
				t.Fatalf("got %d %q %s, want %d application/json {\"error\":%q}", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.error)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !resp.Close {
				t.Fatalf("got headers %v, want nosniff and Connection: close", resp.Header)
			}
		})
	}
	resp, body := rawRequest(t, in.base, "GET /views HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 200 || !strings.Contains(body, `"views":1`) || resp.Header.Get("Date") == "" {
		t.Fatalf("ordinary request: got %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestJSONStdlibError(t *testing.T) {
	const h = stdlibErrorHeaders
	cases := []struct {
		name string
		in   string
		want string // "" when p passes through
	}{
		{"431", "HTTP/1.1 431 Request Header Fields Too Large" + h + "431 Request Header Fields Too Large", `{"error":"Request headers too large"}`},
		{"400", "HTTP/1.1 400 Bad Request" + h + "400 Bad Request", `{"error":"Bad Request"}`},
		{"400 with detail", "HTTP/1.1 400 Bad Request: malformed Host header" + h + "400 Bad Request: malformed Host header", `{"error":"Bad Request: malformed Host header"}`},
		{"501", "HTTP/1.1 501 Not Implemented" + h + "Unsupported transfer encoding", `{"error":"Unsupported transfer encoding"}`},
		{"a handler's response", "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\n\r\nno", ""},
		{"other body", "HTTP/1.1 400 Bad Request" + h + "something else", ""},
		{"a success", "HTTP/1.1 200 OK" + h + "200 OK", ""},
		{"unknown code", "HTTP/1.1 499 Nope" + h + "499 Nope", ""},
		{"not a response", "hello", ""},
		{"body data", strings.Repeat("x", 2000), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := jsonStdlibError([]byte(tc.in))
			if tc.want == "" {
				if ok {
					t.Fatalf("got %q, want the bytes passed through", out)
				}
				return
			}
			if !ok || !strings.HasSuffix(string(out), "\r\n\r\n"+tc.want) || !strings.HasPrefix(string(out), tc.in[:12]) {
				t.Fatalf("got %q (%v), want the same status and the body %s", out, ok, tc.want)
			}
		})
	}
}

// FuzzJSONStdlibError checks that whatever is written, a rewrite is a whole
// HTTP response with the same status code and a JSON body.
func FuzzJSONStdlibError(f *testing.F) {
	f.Add([]byte("HTTP/1.1 431 Request Header Fields Too Large" + stdlibErrorHeaders + "431 Request Header Fields Too Large"))
	f.Add([]byte("HTTP/1.1 400 Bad Request: x" + stdlibErrorHeaders + "400 Bad Request: x"))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		out, ok := jsonStdlibError(p)
		if !ok {
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
		if err != nil {
			t.Fatalf("%q: rewrite %q is not a response: %v", p, out, err)
		}
		b, _ := io.ReadAll(resp.Body)
		var v struct{ Error string }
		if string(p[9:12]) != resp.Status[:3] || json.Unmarshal(b, &v) != nil || v.Error == "" {
			t.Fatalf("%q: rewrite %q: want the same status and a JSON error", p, out)
		}
	})
}
