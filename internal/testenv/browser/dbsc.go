package browser

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Device Bound Session Credentials (DBSC, issue 16) in Chromium.
//
// Chromium registers a device-bound session only when these features are
// on and the page came over HTTPS with a certificate it trusts (a test CA
// in the NSS database of its $HOME, Options.TrustCA; with
// --ignore-certificate-errors, or over plain http://localhost, it sets
// cookies but never registers). Debian's Chromium has no TPM: its keys are
// software keys (EnableBoundSessionCredentialsSoftwareKeysForManualTesting),
// which malware on the machine could copy; the protocol on the wire is the
// same as with a TPM.
//
// Chromium's limits, and how a test lifts them (verified with Debian's
// Chromium 156, whose net/base/features.cc declares them):
//   - Signing quota: 6 signatures per 9 minutes per site
//     (net/device_bound_sessions/session_service_impl.cc, kSigningQuota).
//     The feature parameter DeviceBoundSessions:RefreshQuota/false turns
//     it off (Chromium sets ignore_refresh_quota_ from it; "only ever set to
//     true for testing purposes"). Options.DBSCNoQuota sets it, so a test
//     can use a cookie lifetime of seconds.
//   - Proactive refresh: Chromium refreshes, alongside a request that
//     carries the bound cookie, once that cookie has less than 120 s left;
//     with a cookie that lives less than that, every request starts one.
//     (The feature parameter DeviceBoundSessionProactiveRefresh:Threshold
//     of newer Chromium had no effect in 156.) A request made after the
//     cookie expired waits for the refresh and then carries the new one.
//   - Chromium only signs a new challenge: a refresh answered 200 without
//     a new challenge lets it resend its cached proof, without signing
//     (and without counting against the quota).

// dbscFeatures are the Chromium features that DBSC needs in a headless
// browser without a TPM, and its DevTools events.
const dbscFeatures = "EnableBoundSessionCredentialsSoftwareKeysForManualTesting,DeviceBoundSessionsDevTools"

// enableFeatures returns the --enable-features value for o ("" for none).
func (o Options) enableFeatures() string {
	var f []string
	if o.DBSC {
		if o.DBSCNoQuota {
			f = append(f, "DeviceBoundSessions:RefreshQuota/false")
		} else {
			f = append(f, "DeviceBoundSessions")
		}
		f = append(f, dbscFeatures)
	}
	if v, ok := o.Flags["enable-features"].(string); ok && v != "" {
		f = append(f, v)
	}
	return strings.Join(f, ",")
}

// DBSCEvent is one DevTools report about a device-bound session:
// Network.deviceBoundSessionEventOccurred (a registration, a refresh, a
// challenge, a termination), or a session that was already there when the
// tab began to watch (Network.deviceBoundSessionsAdded, Kind "existing").
type DBSCEvent struct {
	// Kind is "creation", "refresh", "challenge", "termination" or
	// "existing".
	Kind      string
	Site      string
	SessionID string
	Succeeded bool
	// Result is Chromium's word for the outcome: the fetch result of a
	// creation ("Success", "SigningQuotaExceeded", …), the refresh result
	// of a refresh ("Refreshed", …), the challenge result, or the deletion
	// reason of a termination.
	Result string
	// Fetch is the fetch result of a refresh, when there was a fetch.
	Fetch string
	// Proactive tells a refresh made alongside a request, before the bound
	// cookie expired, from one that held a request back until it was done
	// (the cookie was missing or expired).
	Proactive bool
	// Failed is the URL and status of a failed request, when there was one.
	Failed string
	// Cookies are the names of the session's bound cookies, when the
	// event carries the session's configuration (a creation, a refresh
	// that changed it, an existing session).
	Cookies []string
	At      time.Time
}

func (e DBSCEvent) String() string {
	s := fmt.Sprintf("%s %s id=%q ok=%v result=%s", e.At.Format("15:04:05.000"), e.Kind, e.SessionID, e.Succeeded, e.Result)
	if e.Fetch != "" {
		s += " fetch=" + e.Fetch
	}
	if e.Kind == "refresh" {
		s += fmt.Sprintf(" proactive=%v", e.Proactive)
	}
	if e.Failed != "" {
		s += " failed=" + e.Failed
	}
	return s
}

// DBSCWatch records the DBSC events of one tab's browser context.
type DBSCWatch struct {
	mu     sync.Mutex
	events []DBSCEvent
	signal chan struct{}
}

// WatchDBSC turns on the DevTools DBSC events for the tab of ctx
// (Network.enableDeviceBoundSessions; needs Options.DBSC) and records them
// until the test ends. It is safe for concurrent use.
func WatchDBSC(t testing.TB, ctx context.Context) *DBSCWatch {
	t.Helper()
	w := &DBSCWatch{signal: make(chan struct{}, 1)}
	if err := chromedp.Listen(ctx, w.record); err != nil {
		t.Fatalf("listening to DBSC events: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.EnableDeviceBoundSessions, network.EnableDeviceBoundSessionsParams{Enable: true}); err != nil {
		t.Fatalf("Network.enableDeviceBoundSessions (is the browser started with Options.DBSC?): %v", err)
	}
	return w
}

func (w *DBSCWatch) record(ev any) {
	now := time.Now()
	var add []DBSCEvent
	switch e := ev.(type) {
	case *network.EventDeviceBoundSessionsAdded:
		for _, s := range e.Sessions {
			d := DBSCEvent{Kind: "existing", Succeeded: true, At: now}
			if s.Key != nil {
				d.Site, d.SessionID = s.Key.Site, s.Key.ID
			}
			d.Cookies = cravings(s)
			add = append(add, d)
		}
	case *network.EventDeviceBoundSessionEventOccurred:
		d := DBSCEvent{Site: e.Site, SessionID: e.SessionID, Succeeded: e.Succeeded, At: now}
		switch {
		case e.CreationEventDetails != nil:
			d.Kind, d.Result = "creation", string(e.CreationEventDetails.FetchResult)
			d.Failed = failed(e.CreationEventDetails.FailedRequest)
			d.Cookies = cravings(e.CreationEventDetails.NewSession)
		case e.RefreshEventDetails != nil:
			r := e.RefreshEventDetails
			d.Kind, d.Result, d.Fetch = "refresh", string(r.RefreshResult), string(r.FetchResult)
			d.Proactive = r.WasFullyProactiveRefresh
			d.Failed = failed(r.FailedRequest)
			d.Cookies = cravings(r.NewSession)
		case e.ChallengeEventDetails != nil:
			d.Kind, d.Result = "challenge", string(e.ChallengeEventDetails.ChallengeResult)
		case e.TerminationEventDetails != nil:
			d.Kind, d.Result = "termination", string(e.TerminationEventDetails.DeletionReason)
		default:
			d.Kind = "unknown"
		}
		add = append(add, d)
	default:
		return
	}
	w.mu.Lock()
	w.events = append(w.events, add...)
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// cravings returns the names of the bound cookies of s (nil for none).
func cravings(s *network.DeviceBoundSession) []string {
	if s == nil {
		return nil
	}
	var names []string
	for _, c := range s.CookieCravings {
		names = append(names, c.Name)
	}
	return names
}

// failed describes a failed DBSC request without its body (which the
// server controls and may be long).
func failed(r *network.DeviceBoundSessionFailedRequest) string {
	if r == nil {
		return ""
	}
	s := r.RequestURL
	if r.NetError != "" {
		s += " " + r.NetError
	}
	if r.ResponseError != 0 {
		s += fmt.Sprintf(" HTTP %d", r.ResponseError)
	}
	return s
}

// Events returns the events recorded so far, oldest first.
func (w *DBSCWatch) Events() []DBSCEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]DBSCEvent(nil), w.events...)
}

// Wait returns the first event recorded at or after since for which match
// is true, waiting up to timeout; it fails the test, listing every event,
// when none comes.
func (w *DBSCWatch) Wait(t testing.TB, since time.Time, timeout time.Duration, what string, match func(DBSCEvent) bool) DBSCEvent {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		for _, e := range w.Events() {
			if !e.At.Before(since) && match(e) {
				return e
			}
		}
		select {
		case <-w.signal:
		case <-deadline.C:
			t.Fatalf("no DBSC event %s within %v; the browser reported:\n%s", what, timeout, w.dump())
			return DBSCEvent{}
		}
	}
}

func (w *DBSCWatch) dump() string {
	var b strings.Builder
	for _, e := range w.Events() {
		b.WriteString("  " + e.String() + "\n")
	}
	if b.Len() == 0 {
		return "  (nothing)\n"
	}
	return b.String()
}

// CookieParam turns a cookie read from one browser (Cookies) into the
// parameter that sets the same cookie, with the same value, attributes and
// expiry, in another: a thief replaying a stolen cookie jar. url is the
// page the cookie belongs to.
func CookieParam(c *network.Cookie, url string) *network.CookieParam {
	p := &network.CookieParam{
		Name: c.Name, Value: c.Value, URL: url, Path: c.Path,
		Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite,
	}
	if !c.Session {
		p.Expires = cdp.TimeSinceEpoch(c.Expires)
	}
	if strings.HasPrefix(c.Domain, ".") {
		p.Domain = c.Domain // a domain cookie; host-only ones stay so without it
	}
	return p
}

// SetCookies puts cookies into the cookie store of the browser context of
// ctx (Network.setCookies).
func SetCookies(t testing.TB, ctx context.Context, cookies ...*network.CookieParam) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: cookies}); err != nil {
		t.Fatalf("setting cookies in the browser: %v", err)
	}
}
