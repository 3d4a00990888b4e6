package main

import "github.com/tetherhq/tether/internal/config"

// doctorDBSC reports the device-bound session settings (SESSION_DBSC,
// SESSION_DBSC_COOKIE_TTL), and warns when the cookie's lifetime is under
// 5 minutes: Chrome refreshes 120 s before expiry and signs at most 6
// times per 9 minutes per site.
func doctorDBSC(r *report, cfg *config.Config) {
	if !cfg.DBSC.Enabled {
		r.ok("device-bound sessions: off (SESSION_DBSC=off): a stolen session cookie works until the session ends")
		return
	}
	if w := cfg.DBSCWarning(); w != "" {
		r.warn("device-bound sessions: %s", w)
		return
	}
	how := "offered over HTTPS only"
	if !cfg.TrustProxy.Enabled() {
		how += " (behind a TLS-terminating proxy, TRUST_PROXY must vouch for it, or nothing is offered)"
	}
	r.ok("device-bound sessions: on, bound cookie lifetime %v (SESSION_DBSC_COOKIE_TTL); %s", cfg.DBSC.CookieTTL, how)
}
