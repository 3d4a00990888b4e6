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
// ‖ id), so it is worth nothing for another account, cannot be forged, and
// carries no user name. It is HttpOnly, SameSite=Strict, Secure with the
// __Host- prefix in production, and only ever read by POST /login.
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

func (d *deviceCookies) mac(key []byte, username, id string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("tether-device\x00"))
	h.Write([]byte(strings.ToLower(username)))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum(nil)
}

// issue sets a fresh device cookie for username on the response.
func (d *deviceCookies) issue(w http.ResponseWriter, username string) {
	if d == nil {
		return
	}
	var b [deviceIDBytes]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	c := &http.Cookie{
		Name:     d.name,
		Value:    id + "." + base64.RawURLEncoding.EncodeToString(d.mac(d.keys[0], username, id)),
		Path:     "/",
		MaxAge:   int(deviceCookieLifetime / time.Second),
		HttpOnly: true,
		Secure:   d.secure,
		SameSite: http.SameSiteStrictMode,
	}
	w.Header().Add("Set-Cookie", c.String())
}

// verify returns the device id of the request's device cookie when it was
// issued for username, "" otherwise (no cookie, several, oversized,
// malformed, another account's, or forged).
func (d *deviceCookies) verify(r *http.Request, username string) string {
	if d == nil {
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
		if hmac.Equal(got, d.mac(k, username, id)) {
			return id
		}
	}
	return ""
}
