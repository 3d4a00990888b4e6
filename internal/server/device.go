package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/tetherhq/tether/throttle"
)

// The reference server's device cookies ([throttle.DeviceCookies]): named
// tether_device, or __Host-tether_device and Secure in production; issued
// by POST /login and POST /password, read only by POST /login, /reauth and
// /password. Their keys come from the session secrets ([DeviceKeys]).
type deviceCookies struct{ c *throttle.DeviceCookies }

// newDeviceCookies returns nil (device cookies off) without keys, and an
// error for keys that [throttle.NewDeviceCookies] refuses (which [DeviceKeys]
// never makes).
func newDeviceCookies(keys [][]byte, production bool) (*deviceCookies, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	o := throttle.DeviceOptions{Name: "tether_device"}
	if production {
		o = throttle.DeviceOptions{Name: "__Host-tether_device", Secure: true}
	}
	c, err := throttle.NewDeviceCookies(keys, o)
	if err != nil {
		return nil, fmt.Errorf("server: Options.DeviceKeys: %w (derive them with DeviceKeys)", err)
	}
	return &deviceCookies{c: c}, nil
}

func (d *deviceCookies) present(r *http.Request) bool {
	return d != nil && d.c.Present(r)
}

func (d *deviceCookies) issue(w http.ResponseWriter, username, credential string) {
	if d != nil {
		d.c.Issue(w, username, credential)
	}
}

func (d *deviceCookies) verify(r *http.Request, username, credential string) string {
	if d == nil {
		return ""
	}
	return d.c.Verify(r, username, credential)
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
