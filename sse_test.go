package tether_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// A server-sent-events stream keeps its session: the value set before the
// first event is stored and its cookie arrives with the stream's headers,
// and every flushed event reaches the client while the handler is still
// running. Both ways of flushing are covered: the http.Flusher assertion
// and http.ResponseController.
func TestServerSentEventsKeepTheSession(t *testing.T) {
	for _, flush := range []struct {
		name string
		do   func(w http.ResponseWriter) error
	}{
		{"http.Flusher", func(w http.ResponseWriter) error {
			f, ok := w.(http.Flusher)
			if !ok {
				return fmt.Errorf("writer %T is not an http.Flusher", w)
			}
			f.Flush()
			return nil
		}},
		{"ResponseController", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
	} {
		t.Run(flush.name, func(t *testing.T) {
			f := newFixture(t, nil)
			const events = 3
			ack := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
				if err := tether.FromContext(r.Context()).Set("stream", "open"); err != nil {
					t.Errorf("Set: %v", err)
				}
				w.Header().Set("Content-Type", "text/event-stream")
				for i := range events {
					fmt.Fprintf(w, "data: %d\n\n", i)
					if err := flush.do(w); err != nil {
						t.Errorf("flush %d: %v", i, err)
						return
					}
					// The client acknowledges each event: without a working
					// flush it never sees one and the test times out.
					select {
					case <-ack:
					case <-time.After(5 * time.Second):
						t.Errorf("event %d: the client did not receive it while the handler ran", i)
						return
					}
				}
			})
			mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, tether.FromContext(r.Context()).GetString("stream"))
			})
			srv := httptest.NewServer(f.m.Handler(mux))
			defer srv.Close()

			resp, err := srv.Client().Get(srv.URL + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var cookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == f.m.CookieName() {
					cookie = c
				}
			}
			if cookie == nil || cookie.Value == "" {
				t.Fatalf("Set-Cookie on the stream: got %q, want the new session's cookie", resp.Header.Values("Set-Cookie"))
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			br := bufio.NewReader(resp.Body)
			for i := range events {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if want := fmt.Sprintf("data: %d\n", i); line != want {
					t.Fatalf("event %d: got %q, want %q", i, line, want)
				}
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				ack <- struct{}{}
			}

			req, _ := http.NewRequest("GET", srv.URL+"/get", nil)
			req.AddCookie(cookie)
			resp2, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp2.Body.Close()
			body, _ := bufio.NewReader(resp2.Body).ReadString(0)
			if strings.TrimSpace(body) != "open" {
				t.Fatalf("stored value after the stream: got %q, want %q", body, "open")
			}
		})
	}
}
