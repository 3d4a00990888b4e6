package dbsc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The bound cookie is verified without a store call: its value is
//
//	base64url(expiry || nonce) "." base64url(HMAC-SHA256(key, label || 0 || id || 0 || expiry || nonce))
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
	name  string
	pools []*sync.Pool // keyed HMAC states, one pool per key: the first signs, all verify
}

// newBoundCookie returns the bound cookie called name, signed with keys[0]
// and verified with any of keys.
func newBoundCookie(name string, keys [][]byte) *boundCookie {
	c := &boundCookie{name: name}
	for _, k := range keys {
		c.pools = append(c.pools, &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }})
	}
	return c
}

// mac returns the MAC under key i of (label, id, payload), appended to
// out. Keyed HMAC states are pooled: a bound request costs no allocation
// for them.
func (c *boundCookie) mac(i int, id string, payload, out []byte) []byte {
	h := c.pools[i].Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(cookieKeyLabel))
	h.Write([]byte{0})
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(payload)
	out = h.Sum(out)
	c.pools[i].Put(h)
	return out
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
	var buf [sha256.Size]byte
	return b64strict.EncodeToString(payload) + "." + b64strict.EncodeToString(c.mac(0, id, payload, buf[:0]))
}

// setCookie renders the Set-Cookie value carrying value, with Max-Age ttl
// in whole seconds (at least 1), and attrs as in the instructions.
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
	var buf [sha256.Size]byte
	for i := range c.pools {
		if hmac.Equal(c.mac(i, id, payload[:], buf[:0]), got[:]) {
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
