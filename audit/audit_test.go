package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/memstore"
)

func TestLogShape(t *testing.T) {
	cases := []struct {
		name  string
		event audit.Event
		level string
	}{
		{"success is info", audit.Event{Type: tether.EventLoginSuccess, UserID: "user-1001", IP: "127.0.0.1", UserAgent: "curl/8", Session: "00ff"}, "INFO"},
		{"failure is warn", audit.Event{Type: tether.EventLoginFailure, IP: "10.0.0.1"}, "WARN"},
		{"rejection is warn", audit.Event{Type: tether.EventSessionRejected, Attrs: []slog.Attr{slog.String("reason", "bad_signature")}}, "WARN"},
		{"timeout is warn", audit.Event{Type: tether.EventIdleTimeout}, "WARN"},
		{"dbsc refresh failure is warn", audit.Event{Type: tether.EventDBSCRefreshFailed, Attrs: []slog.Attr{slog.String("reason", "bad_signature")}}, "WARN"},
		{"dbsc refusal is warn", audit.Event{Type: tether.EventDBSCRequired}, "WARN"},
		{"dbsc registration is info", audit.Event{Type: tether.EventDBSCRegistered}, "INFO"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			audit.New(&buf).Log(context.Background(), tc.event)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("not a JSON line: %q: %v", buf.String(), err)
			}
			for _, k := range []string{"time", "event", "userId", "ip", "userAgent", "session"} {
				if _, ok := line[k]; !ok {
					t.Errorf("line %s: missing %q", buf.String(), k)
				}
			}
			if line["event"] != tc.event.Type || line["level"] != tc.level {
				t.Errorf("got event=%v level=%v, want %s %s", line["event"], line["level"], tc.event.Type, tc.level)
			}
			for _, a := range tc.event.Attrs {
				if line[a.Key] != a.Value.String() {
					t.Errorf("attr %s: got %v, want %v", a.Key, line[a.Key], a.Value)
				}
			}
			if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
				t.Errorf("got %q, want exactly one line", buf.String())
			}
		})
	}
}

func TestLogTime(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	audit.New(&buf).Log(context.Background(), audit.Event{Type: tether.EventLogout, Time: at})
	var line struct{ Time time.Time }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || !line.Time.Equal(at) {
		t.Fatalf("time: got %v (%v), want %v", line.Time, err, at)
	}
}

func ExampleLogger_Log() {
	audit.New(os.Stdout).Log(context.Background(), audit.Event{
		Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Type: tether.EventLogout,
		UserID: "user-1001", IP: "127.0.0.1", UserAgent: "curl/8.5.0", Session: "3f9a0c1d22b7e4a8",
	})
	// Output:
	// {"time":"2026-11-24T10:00:00Z","level":"INFO","msg":"security event","event":"logout","userId":"user-1001","ip":"127.0.0.1","userAgent":"curl/8.5.0","session":"3f9a0c1d22b7e4a8"}
}

// OnEvent plugs the Logger into the middleware: every security event the
// Manager emits becomes a JSON line.
func ExampleLogger_OnEvent() {
	// Time and the session's public ID change from run to run; leave them out
	// here so the output can be checked.
	log := audit.NewWithHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "session" {
				return slog.Attr{}
			}
			return a
		},
	}))
	m, err := tether.New(tether.Config{
		Store:   memstore.New(),
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
		OnEvent: log.OnEvent,
	})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("user-1001", "")
	}))
	req := httptest.NewRequest("POST", "/login", nil)
	req.Header.Set("User-Agent", "curl/8.5.0")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"level":"INFO","msg":"security event","event":"session_regenerated","userId":"user-1001","ip":"192.0.2.1","userAgent":"curl/8.5.0"}
	// {"level":"INFO","msg":"security event","event":"login_success","userId":"user-1001","ip":"192.0.2.1","userAgent":"curl/8.5.0"}
}
