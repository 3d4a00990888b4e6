package dbsc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strconv"
	"time"
)

// The bound cookie is verified without a store call: its value is
//
//	base64url(expiry || nonce) "." base64url(HMAC-SHA256(key, label || id || 0 || expiry || nonce))
//
// with expiry the server-chosen Unix second (8 bytes, big-endian) after
// which it no longer verifies, nonce 16 bytes from crypto/rand (every
// refresh gives a new value), id the binding's DBSC session identifier
// (kept in the session's values, which the request loads anyway), and key
// derived from the Manager's secrets ([tether.Manager.DeriveKeys]): the
// first signs, all verify, so rotating the secrets keeps bound cookies
// working as it keeps session cookies working. The expiry checked is the
// signed one, never the cookie's Max-Age (a thief's copy has whatever
// Max-Age the thief likes). A bound cookie from another binding (another
// session, or this session before a new login) does not verify: its id
// differs.

// cookieKeyLabel separates the bound cookie's keys from every other use of
// the secrets.
const cookieKeyLabel = "tether/dbsc/cookie/v1"

const (
	nonceBytes   = 16
	payloadBytes = 8 + nonceBytes
)

var (
	b64strict      = base64.RawURLEncoding.Strict()
	payloadB64Len  = b64strict.EncodedLen(payloadBytes)
	boundCookieLen = payloadB64Len + 1 + b64strict.EncodedLen(sha256.Size)
)

type boundCookie struct {
	name string
	keys [][]byte // the first signs; all verify
}

func (c *boundCookie) mac(key []byte, id string, payload []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(cookieKeyLabel))
	h.Write([]byte{0})
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)
}

// issue returns a new cookie value for the binding id, expiring at exp.
func (c *boundCookie) issue(id string, exp time.Time) (string, error) {
	var nonce [nonceBytes]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	return c.issueWith(id, exp, nonce), nil
}

// issueWith returns the cookie value for the binding id, expiry and nonce.
func (c *boundCookie) issueWith(id string, exp time.Time, nonce [nonceBytes]byte) string {
	payload := make([]byte, payloadBytes)
	binary.BigEndian.PutUint64(payload, uint64(exp.Unix()))
	copy(payload[8:], nonce[:])
	return b64strict.EncodeToString(payload) + "." + b64strict.EncodeToString(c.mac(c.keys[0], id, payload))
}

// setCookie renders the Set-Cookie value carrying value, with Max-Age the
// time left until exp, and attrs as in the instructions.
func (c *boundCookie) setCookie(value string, ttl time.Duration, attrs string) string {
	secs := int64(ttl / time.Second)
	if secs < 1 {
		secs = 1
	}
	return c.name + "=" + value + "; " + attrs + "; Max-Age=" + strconv.FormatInt(secs, 10)
}

// cookieVerdict is the result of checking a request's bound cookie.
type cookieVerdict string

const (
	cookieOK       cookieVerdict = ""
	cookieMissing  cookieVerdict = "missing"
	cookieExpired  cookieVerdict = "expired"
	cookieInvalid  cookieVerdict = "invalid"
	cookieRepeated cookieVerdict = "duplicate"
)

// check verifies the request's bound cookie for the binding id at now.
func (c *boundCookie) check(r *http.Request, id string, now time.Time) cookieVerdict {
	cs := r.CookiesNamed(c.name)
	switch len(cs) {
	case 0:
		return cookieMissing
	case 1:
	default:
		return cookieRepeated
	}
	v := cs[0].Value
	if len(v) != boundCookieLen || v[payloadB64Len] != '.' {
		return cookieInvalid
	}
	var payload [payloadBytes]byte
	if n, err := b64strict.Decode(payload[:], []byte(v[:payloadB64Len])); err != nil || n != payloadBytes {
		return cookieInvalid
	}
	var got [sha256.Size]byte
	if n, err := b64strict.Decode(got[:], []byte(v[payloadB64Len+1:])); err != nil || n != sha256.Size {
		return cookieInvalid
	}
	ok := false
	for _, k := range c.keys {
		if hmac.Equal(c.mac(k, id, payload[:]), got[:]) {
			ok = true
			break
		}
	}
	if !ok {
		return cookieInvalid
	}
	exp := int64(binary.BigEndian.Uint64(payload[:8]))
	if exp <= 0 || now.Unix() >= exp {
		return cookieExpired
	}
	return cookieOK
}
