package throttle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
// Cookies"): a browser that logs in to an account gets a long-lived cookie
// naming that account; its later login attempts for the account pass the
// cookie's id as [Attempt.Device] and are counted on their own, so a
// stranger who keeps the account's failure count at its limit does not lock
// the owner out of the browsers they already use.
//
// The cookie value is a random id + "." + HMAC-SHA256(key, lower(username)
// ‖ credential ‖ id): it is worth nothing for another account, cannot be
// forged without the key, and carries no user name. The credential is what
// the application stores to check the password (its PHC hash string): a
// hash with a fresh salt at every password change voids every device cookie
// issued before the change, so a cookie taken from a browser stops being
// trusted along with the password.

const (
	// DefaultDeviceLifetime is a device cookie's default Max-Age.
	DefaultDeviceLifetime = 365 * 24 * time.Hour
	// MinDeviceKeyLen is the shortest device-cookie key accepted, in bytes.
	MinDeviceKeyLen = 32

	deviceIDBytes   = 16
	maxDeviceCookie = 128 // bytes; longer values are ignored
)

// DeviceOptions configures [NewDeviceCookies].
type DeviceOptions struct {
	// Name is the cookie's name. Default "device", or "__Host-device" when
	// Secure is set. A name with the __Host- prefix requires Secure.
	Name string
	// Secure sends the cookie over HTTPS only. Set it in production.
	Secure bool
	// Lifetime is the cookie's Max-Age. Default [DefaultDeviceLifetime].
	Lifetime time.Duration
}

// DeviceCookies issues and verifies device cookies. Cookies are HttpOnly,
// SameSite=Strict and scoped to Path "/"; read them only on the routes that
// check a password (login, re-authentication, password change).
//
// A DeviceCookies is immutable once made and safe for concurrent use. A nil
// *DeviceCookies is valid and off: it issues nothing and verifies nothing.
type DeviceCookies struct {
	name     string
	secure   bool
	lifetime time.Duration
	keys     [][]byte // the first signs, every one verifies (rotation)
}

// NewDeviceCookies returns device cookies signed with keys[0] and verified
// with any of keys, so a new key can be put first while cookies signed with
// the old one stay valid until it is removed. Each key must be at least
// [MinDeviceKeyLen] random bytes (crypto/rand), kept secret, and used for
// nothing else. The keys are copied.
func NewDeviceCookies(keys [][]byte, o DeviceOptions) (*DeviceCookies, error) {
	if len(keys) == 0 {
		return nil, errors.New("device cookies need at least one key: pass 32 or more random bytes from crypto/rand")
	}
	d := &DeviceCookies{name: o.Name, secure: o.Secure, lifetime: o.Lifetime}
	for i, k := range keys {
		if len(k) < MinDeviceKeyLen {
			return nil, fmt.Errorf("device-cookie key %d is %d bytes long: use at least %d random bytes from crypto/rand", i, len(k), MinDeviceKeyLen)
		}
		d.keys = append(d.keys, append([]byte(nil), k...))
	}
	if d.name == "" {
		d.name = "device"
		if d.secure {
			d.name = "__Host-device"
		}
	}
	if strings.HasPrefix(d.name, "__Host-") && !d.secure {
		return nil, fmt.Errorf("device cookie name %q has the __Host- prefix, which browsers accept only on a Secure cookie: set Secure or drop the prefix", d.name)
	}
	if err := (&http.Cookie{Name: d.name, Value: "x"}).Valid(); err != nil {
		return nil, fmt.Errorf("device cookie name %q is not a valid cookie name: %v", d.name, err)
	}
	if d.lifetime <= 0 {
		d.lifetime = DefaultDeviceLifetime
	}
	return d, nil
}

// Name returns the cookie's name.
func (d *DeviceCookies) Name() string { return d.name }

func (d *DeviceCookies) mac(key []byte, username, credential, id string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("tether-device\x00"))
	h.Write([]byte(strings.ToLower(username)))
	h.Write([]byte{0})
	h.Write([]byte(credential))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum(nil)
}

// Present reports whether the request carries a device cookie at all, so
// that a caller looks the credential up only when there is something to
// [DeviceCookies.Verify].
func (d *DeviceCookies) Present(r *http.Request) bool {
	return d != nil && len(r.CookiesNamed(d.name)) > 0
}

// Issue sets a fresh device cookie for username, whose stored credential
// (password hash) is credential, on the response. Call it after a
// successful login and after a password change (the change voids the
// browser's previous cookie).
func (d *DeviceCookies) Issue(w http.ResponseWriter, username, credential string) {
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
		MaxAge:   int(d.lifetime / time.Second),
		HttpOnly: true,
		Secure:   d.secure,
		SameSite: http.SameSiteStrictMode,
	}
	w.Header().Add("Set-Cookie", c.String())
}

// Verify returns the device id of the request's device cookie when it was
// issued for username (compared case-insensitively) while its credential
// was credential; pass it as [Attempt.Device]. It returns "" otherwise: no
// cookie, several, oversized, malformed, another account's, issued before a
// password change, or forged. An empty credential (an unknown user)
// verifies nothing. Signatures are compared in constant time.
func (d *DeviceCookies) Verify(r *http.Request, username, credential string) string {
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
