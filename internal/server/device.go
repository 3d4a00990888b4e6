package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
// Cookies"): a browser that logs in to an account gets a long-lived cookie
// naming that account; later login attempts for the account that carry it
// are throttled on their own count (throttle.Attempt.Device), so a stranger
// who keeps the account's failure count at its limit does not lock the
// owner out of the browsers they already use.
//
// The cookie is random id + "." + HMAC-SHA256(key, name ‖ lower(username)
// ‖ password hash ‖ id), so it is worth nothing for another account, cannot
// be forged, and carries no user name. Binding it to the stored password
// hash (a PHC string with a fresh salt at every change) makes a change of
// password, by the owner or an admin, void every device cookie issued
// before it: a cookie taken from a browser stops being trusted along with
// the password (POST /password issues the changing browser a new one). It
// is HttpOnly, SameSite=Strict, Secure with the __Host- prefix in
// production, and read only by POST /login, /reauth and /password.
const (
	deviceCookieLifetime = 365 * 24 * time.Hour
	deviceIDBytes        = 16
	maxDeviceCookie      = 128 // bytes; longer values are ignored
)

type deviceCookies struct {
	name   string
	secure bool
	keys   [][]byte // the first signs, every one verifies (rotation)
}

func newDeviceCookies(keys [][]byte, production bool) *deviceCookies {
	if len(keys) == 0 {
		return nil
	}
	d := &deviceCookies{name: "tether_device", keys: keys}
	if production {
		d.name, d.secure = "__Host-tether_device", true
	}
	return d
}

func (d *deviceCookies) mac(key []byte, username, credential, id string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("tether-device\x00"))
	h.Write([]byte(strings.ToLower(username)))
	h.Write([]byte{0})
	h.Write([]byte(credential))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum(nil)
}

// present reports whether the request carries a device cookie at all, so
// callers look up the credential only when there is something to verify.
func (d *deviceCookies) present(r *http.Request) bool {
	return d != nil && len(r.CookiesNamed(d.name)) > 0
}

// issue sets a fresh device cookie for username, whose stored password hash
// is credential, on the response.
func (d *deviceCookies) issue(w http.ResponseWriter, username, credential string) {
	if d == nil {
		return
	}
	var b [deviceIDBytes]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	c := &http.Cookie{
		Name:     d.name,
		Value:    id + "." + base64.RawURLEncoding.EncodeToString(d.mac(d.keys[0], username, credential, id)),
		Path:     "/",
		MaxAge:   int(deviceCookieLifetime / time.Second),
		HttpOnly: true,
		Secure:   d.secure,
		SameSite: http.SameSiteStrictMode,
	}
	w.Header().Add("Set-Cookie", c.String())
}

// verify returns the device id of the request's device cookie when it was
// issued for username while its password hash was credential, "" otherwise
// (no cookie, several, oversized, malformed, another account's, issued
// before a password change, or forged). An empty credential (unknown user)
// verifies nothing.
func (d *deviceCookies) verify(r *http.Request, username, credential string) string {
	if d == nil || credential == "" {
		return ""
	}
	cs := r.CookiesNamed(d.name)
	if len(cs) != 1 || len(cs[0].Value) > maxDeviceCookie {
		return ""
	}
	id, sig, ok := strings.Cut(cs[0].Value, ".")
	if !ok || len(id) != base64.RawURLEncoding.EncodedLen(deviceIDBytes) {
		return ""
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(id); err != nil {
		return ""
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return ""
	}
	for _, k := range d.keys {
		if hmac.Equal(got, d.mac(k, username, credential, id)) {
			return id
		}
	}
	return ""
}

// device returns the verified device id of the request for username,
// looking up the account's password hash only when a device cookie is
// present. A directory error counts as no device: the attempt is then
// throttled on the account, the stricter count.
func (s *Server) device(r *http.Request, username string) string {
	if !s.devices.present(r) {
		return ""
	}
	u, err := s.users.Get(r.Context(), username)
	if err != nil {
		return ""
	}
	return s.devices.verify(r, username, u.PasswordHash)
}

// DeviceKeys derives the device-cookie keys from the session secrets, one
// per secret and in the same order, so rotating the session secret rotates
// them too. The derivation is one-way: a device-cookie key reveals nothing
// of the session secret.
func DeviceKeys(secrets [][]byte) [][]byte {
	out := make([][]byte, len(secrets))
	for i, s := range secrets {
		h := hmac.New(sha256.New, s)
		h.Write([]byte("tether device-cookie key v1"))
		out[i] = h.Sum(nil)
	}
	return out
}
