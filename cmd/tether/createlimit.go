package main

import (
	"net/http"
	"time"

	"github.com/tetherhq/tether/throttle"
)

// allowCreate returns the tether.Config.AllowCreate of
// SESSION_CREATE_PER_IP (issue 11 row 5): perMinute new anonymous sessions
// per client IP (an IPv6 /64 counts as one) and minute, nil for no limit
// (perMinute 0). shared is the Redis counter every instance shares, nil
// without Redis: the limit then counts in a memory counter of its own, so
// that a flood from many addresses, which fills a memory counter, cannot
// fill the login throttle's and refuse logins.
func allowCreate(perMinute int, shared throttle.Counter, clientIP func(*http.Request) string) (func(*http.Request) (time.Duration, error), error) {
	if perMinute == 0 {
		return nil, nil
	}
	counter := shared
	if counter == nil {
		counter = throttle.NewMemory(nil)
	}
	rate, err := throttle.NewRate(counter, "create:", int64(perMinute), time.Minute)
	if err != nil {
		return nil, err
	}
	return func(r *http.Request) (time.Duration, error) {
		return rate.Allow(r.Context(), clientIP(r))
	}, nil
}
