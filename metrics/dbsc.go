package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetherhq/tether"
)

// Device Bound Session Credentials (package dbsc) by outcome:
//
//	tether_dbsc_events_total{event,reason}
//
// event is dbsc_registered, dbsc_refreshed, dbsc_refresh_failed or
// dbsc_required; reason is the event's reason code for the last two
// ("" for the first two). Both come from fixed lists: a reason outside
// dbscReasons counts as "other", so nothing a client sends adds a series.
// tether_security_events_total counts the same events without the reason.

// dbscReasons are the reason codes package dbsc emits.
var dbscReasons = map[string]bool{
	// dbsc_refresh_failed (registration and refresh)
	"not_signed_in": true, "already_bound": true, "no_proof": true, "no_session_id": true,
	"unknown_session": true, "bad_binding": true, "challenge": true, "bad_proof": true,
	"bad_alg": true, "bad_type": true, "bad_key": true, "bad_signature": true, "bad_claims": true,
	"bad_authorization": true,
	// dbsc_required
	"missing": true, "expired": true, "invalid": true, "duplicate": true,
}

type dbscKey struct{ event, reason string }

func newDBSCCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tether_dbsc_events_total", Help: "Device-bound session registrations, refreshes, refused refreshes and refused requests, by reason.",
	}, []string{"event", "reason"})
}

// DBSC counts e in tether_dbsc_events_total when it is one of the DBSC
// events, and does nothing for any other. Call it from Config.OnEvent,
// beside [Metrics.Event].
func (m *Metrics) DBSC(e tether.Event) {
	switch e.Type {
	case tether.EventDBSCRegistered, tether.EventDBSCRefreshed:
		m.count(dbscKey{e.Type, ""})
	case tether.EventDBSCRefreshFailed, tether.EventDBSCRequired:
		reason := "other"
		for _, a := range e.Attrs {
			if a.Key == "reason" && dbscReasons[a.Value.String()] {
				reason = a.Value.String()
			}
		}
		m.count(dbscKey{e.Type, reason})
	}
}

func (m *Metrics) count(k dbscKey) {
	m.dbscC.get(k, func() prometheus.Counter { return m.dbsc.WithLabelValues(k.event, k.reason) }).Inc()
}
