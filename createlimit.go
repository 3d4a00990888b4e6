package tether

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// allowCreateLocked asks [Config.AllowCreate] whether the request may store
// rec as a new anonymous session, just before it is stored. A login, and a
// new token for a record that exists already, are not asked. On a refusal
// it emits [EventRateLimited] (limit "session_create") and returns a
// [*CreateLimitedError]; nothing is stored. The caller holds s.mu.
func (s *Session) allowCreateLocked(rec *Record) error {
	m := s.m
	if m.cfg.AllowCreate == nil || rec.UserID != "" || s.exists {
		return nil
	}
	wait, err := m.cfg.AllowCreate(s.r)
	switch {
	case err != nil:
		// Fail closed: a limit that cannot be checked refuses, as a store
		// outage (503) that the client may retry.
		return storeErr(fmt.Errorf("tether: Config.AllowCreate: %w", err))
	case wait <= 0:
		return nil
	}
	wait = max(wait, time.Second)
	m.emit(s.r, nil, EventRateLimited, slog.String("limit", LimitSessionCreate),
		slog.Int64("retryAfterSeconds", retryAfterSeconds(wait)))
	return &CreateLimitedError{RetryAfter: wait}
}

// LimitSessionCreate is the "limit" attribute of the [EventRateLimited]
// event of a new session that [Config.AllowCreate] refused.
const LimitSessionCreate = "session_create"

// ErrCreateLimited matches (with errors.Is) the error of a request whose new
// anonymous session [Config.AllowCreate] refused to store; it is a
// [*CreateLimitedError]. [StatusOf] answers it with 429 and
// [DefaultErrorHandler] adds Retry-After.
var ErrCreateLimited = errors.New("tether: too many new sessions from this client")

// CreateLimitedError is the error of a request whose new anonymous session
// [Config.AllowCreate] refused to store. It matches [ErrCreateLimited].
type CreateLimitedError struct {
	// RetryAfter is how long the client should wait, at least a second.
	RetryAfter time.Duration
}

func (e *CreateLimitedError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrCreateLimited, e.RetryAfter)
}

// Is makes errors.Is(err, ErrCreateLimited) true.
func (e *CreateLimitedError) Is(target error) bool { return target == ErrCreateLimited }

// retryAfterSeconds is d in whole seconds, rounded up, at least 1: the
// Retry-After header and the rate_limited event's retryAfterSeconds.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}
