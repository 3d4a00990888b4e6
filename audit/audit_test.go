package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tetherhq/tether/audit"
)

func TestLogShape(t *testing.T) {
	cases := []struct {
		name  string
		event audit.Event
		level string
	}{
		{"success is info", audit.Event{Name: "login_success", UserID: "user-1001", IP: "127.0.0.1", UserAgent: "curl/8", Session: "00ff"}, "INFO"},
		{"failure is warn", audit.Event{Name: "login_failure", IP: "10.0.0.1"}, "WARN"},
		{"rejection is warn", audit.Event{Name: "session_rejected", Attrs: []slog.Attr{slog.String("reason", "bad_signature")}}, "WARN"},
		{"timeout is warn", audit.Event{Name: "idle_timeout"}, "WARN"},
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
			if line["event"] != tc.event.Name || line["level"] != tc.level {
				t.Errorf("got event=%v level=%v, want %s %s", line["event"], line["level"], tc.event.Name, tc.level)
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
	audit.New(&buf).Log(context.Background(), audit.Event{Name: "logout", Time: at})
	var line struct{ Time time.Time }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || !line.Time.Equal(at) {
		t.Fatalf("time: got %v (%v), want %v", line.Time, err, at)
	}
}

func ExampleLogger_Log() {
	audit.New(os.Stdout).Log(context.Background(), audit.Event{
		Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Name: "logout",
		UserID: "user-1001", IP: "127.0.0.1", UserAgent: "curl/8.5.0", Session: "3f9a0c1d22b7e4a8",
	})
	// Output:
	// {"time":"2026-11-24T10:00:00Z","level":"INFO","msg":"security event","event":"logout","userId":"user-1001","ip":"127.0.0.1","userAgent":"curl/8.5.0","session":"3f9a0c1d22b7e4a8"}
}
