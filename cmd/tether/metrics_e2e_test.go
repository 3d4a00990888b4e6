package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var metricsRE = regexp.MustCompile(`Metrics on (http://\S+)`)

func TestMetrics(t *testing.T) {
	check := func(t *testing.T, body string) {
		t.Helper()
		for _, want := range []string{
			`tether_session_lookups_total{result="hit"}`,
			`tether_session_lookups_total{result="miss"}`,
			`tether_security_events_total{event="login_success"}`,
			`tether_security_events_total{event="login_failure"}`,
			`tether_store_duration_seconds_bucket{op="load"`,
			`tether_http_request_duration_seconds_count{code="200",method="GET",route="/profile"}`,
			`tether_http_request_duration_seconds_count{code="404",method="GET",route="other"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics: missing %s", want)
			}
		}
	}
	traffic := func(in *instance) {
		c := in.client()
		expect(t, "bad login", c.login("alice", "nope-nope"), 401, "")
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		expect(t, "profile", c.get("/profile"), 200, "")
		stale := in.client()
		stale.setSID(c.sid())
		expect(t, "logout", c.do("POST", "/logout", "", ""), 200, "")
		expect(t, "stale cookie", stale.get("/profile"), 401, "")
		expect(t, "unknown path", c.get("/nope/123"), 404, "")
	}
	t.Run("on the main listener", func(t *testing.T) {
		in := start(t, t.TempDir(), env())
		traffic(in)
		r := in.client().get("/metrics")
		if r.status != 200 {
			t.Fatalf("/metrics: got %d", r.status)
		}
		check(t, r.body)
	})
	t.Run("on METRICS_ADDR", func(t *testing.T) {
		in := start(t, t.TempDir(), env("METRICS_ADDR", "127.0.0.1:0"))
		traffic(in)
		if r := in.client().get("/metrics"); r.status != 404 {
			t.Fatalf("/metrics on the main listener with METRICS_ADDR set: got %d, want 404", r.status)
		}
		m := metricsRE.FindStringSubmatch(in.stderr.String())
		if m == nil {
			t.Fatalf("no metrics address in stderr:\n%s", in.stderr)
		}
		resp, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		check(t, string(b))
	})
}
