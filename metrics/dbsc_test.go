package metrics

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

// DBSC outcomes are counted by event and reason, with the reason taken
// from a fixed list: an unknown one is "other", so no series comes from
// input; other events are not counted here.
func TestDBSCEvents(t *testing.T) {
	m := New()
	reason := func(r string) []slog.Attr {
		return []slog.Attr{slog.String("step", "refresh"), slog.String("reason", r)}
	}
	for _, e := range []tether.Event{
		{Type: tether.EventDBSCRegistered},
		{Type: tether.EventDBSCRefreshed},
		{Type: tether.EventDBSCRefreshed},
		{Type: tether.EventDBSCRefreshFailed, Attrs: reason("bad_signature")},
		{Type: tether.EventDBSCRequired, Attrs: reason("expired")},
		{Type: tether.EventDBSCRequired, Attrs: reason("attacker-chosen")},
		{Type: tether.EventLoginSuccess},
	} {
		m.DBSC(e)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`tether_dbsc_events_total{event="dbsc_registered",reason=""} 1`,
		`tether_dbsc_events_total{event="dbsc_refreshed",reason=""} 2`,
		`tether_dbsc_events_total{event="dbsc_refresh_failed",reason="bad_signature"} 1`,
		`tether_dbsc_events_total{event="dbsc_required",reason="expired"} 1`,
		`tether_dbsc_events_total{event="dbsc_required",reason="other"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape: no line %s", want)
		}
	}
	if strings.Contains(out, "attacker-chosen") || strings.Contains(out, `event="login_success",reason`) {
		t.Error("scrape: a series from outside the fixed lists")
	}
}
