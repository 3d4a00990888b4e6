package dbsc

import (
	"log/slog"
	"net/http"

	"github.com/tetherhq/tether"
)

// session returns the request's loaded session for Register and Refresh,
// or answers the request itself (through the Manager's error handler: 503
// during a store outage, which keeps the browser's DBSC session) and
// reports false.
func (b *Binder) session(w http.ResponseWriter, r *http.Request) (*tether.Session, bool) {
	s, ok := b.m.Lookup(r.Context())
	if !ok {
		b.m.Error(w, r, tether.ErrNoSession)
		return nil, false
	}
	if err := s.Err(); err != nil {
		b.m.Error(w, r, err)
		return nil, false
	}
	return s, true
}

// failer returns the refusal writer of one endpoint: a dbsc_refresh_failed
// event ([Binder.refused]) and a JSON error with status and msg.
func (b *Binder) failer(w http.ResponseWriter, r *http.Request, step string) func(status int, reason, msg string) {
	return func(status int, reason, msg string) {
		b.refused(r, step, reason)
		tether.WriteJSONError(w, status, msg)
	}
}

// refused emits dbsc_refresh_failed with the step ("register" or
// "refresh") and a reason code (never the proof).
func (b *Binder) refused(r *http.Request, step, reason string) {
	b.m.Emit(r, tether.EventDBSCRefreshFailed, slog.String("step", step), slog.String("reason", reason))
}
