package dbsc

import (
	"errors"
	"fmt"
	"net/http"
)

// Header names of the W3C DBSC draft (section 9).
const (
	// HeaderRegistration offers registration, on a response.
	HeaderRegistration = "Secure-Session-Registration"
	// HeaderChallenge carries a fresh challenge, on a response (a 403 from
	// the refresh endpoint asks for a proof signed over it at once).
	HeaderChallenge = "Secure-Session-Challenge"
	// HeaderResponse carries the browser's signed proof, on a request.
	HeaderResponse = "Secure-Session-Response"
	// HeaderSessionID names the session being refreshed, on a request.
	HeaderSessionID = "Sec-Secure-Session-Id"
)

// Size limits on what the browser sends. A header over its limit is refused
// before any parsing.
const (
	// MaxSessionIDHeader bounds Sec-Secure-Session-Id, quotes and
	// parameters included. Identifiers from [NewSessionIdentifier] take 23
	// bytes.
	MaxSessionIDHeader = 256
	// MaxProofBytes bounds Secure-Session-Response. A registration proof
	// with a 43-byte challenge measures 379 bytes for ES256, 965 for RS256
	// with a 2048-bit key and 1760 with a 4096-bit one.
	MaxProofBytes = 8 << 10
)

// Errors of header parsing. They never quote the header value.
var (
	// ErrNoHeader: the request does not carry the header.
	ErrNoHeader = errors.New("dbsc: header missing")
	// ErrHeader: the header is repeated, too long or malformed.
	ErrHeader = errors.New("dbsc: header malformed")
)

// Offer is a Secure-Session-Registration offer. Algorithms are always
// "(ES256 RS256)", the two this package verifies.
type Offer struct {
	// Path is the registration endpoint, absolute or relative to the
	// response's URL ("/dbsc/register").
	Path string
	// Challenge is the value the proof's jti must repeat: one from
	// [Challenges.Issue].
	Challenge string
	// Authorization, when not empty, is sent as the authorization
	// parameter; the browser must copy it into the proof (see
	// [VerifyRegistration]) and also sends it as an Authorization header.
	Authorization string
}

// HeaderValue serializes o as an RFC 8941 list of one inner list:
//
//	(ES256 RS256);path="/dbsc/register";challenge="…";authorization="…"
//
// Path and Challenge are required. Every value must be printable ASCII (an
// sf-string cannot hold anything else): an error otherwise, never a
// silently altered header.
func (o Offer) HeaderValue() (string, error) {
	if o.Path == "" || o.Challenge == "" {
		return "", errors.New("dbsc: an offer needs a path and a challenge")
	}
	b := make([]byte, 0, 64+len(o.Path)+len(o.Challenge)+len(o.Authorization))
	b = append(b, "(ES256 RS256);path="...)
	var err error
	if b, err = appendSFString(b, o.Path); err != nil {
		return "", fmt.Errorf("dbsc: offer path: %w", err)
	}
	b = append(b, ";challenge="...)
	if b, err = appendSFString(b, o.Challenge); err != nil {
		return "", fmt.Errorf("dbsc: offer challenge: %w", err)
	}
	if o.Authorization != "" {
		b = append(b, ";authorization="...)
		if b, err = appendSFString(b, o.Authorization); err != nil {
			return "", fmt.Errorf("dbsc: offer authorization: %w", err)
		}
	}
	return string(b), nil
}

// ChallengeHeaderValue serializes a Secure-Session-Challenge value:
// "<challenge>";id="<sessionID>". Both must be non-empty printable ASCII.
func ChallengeHeaderValue(challenge, sessionID string) (string, error) {
	if challenge == "" || sessionID == "" {
		return "", errors.New("dbsc: a challenge header needs a challenge and a session identifier")
	}
	b, err := appendSFString(make([]byte, 0, 8+len(challenge)+len(sessionID)), challenge)
	if err != nil {
		return "", fmt.Errorf("dbsc: challenge: %w", err)
	}
	b = append(b, ";id="...)
	if b, err = appendSFString(b, sessionID); err != nil {
		return "", fmt.Errorf("dbsc: challenge session identifier: %w", err)
	}
	return string(b), nil
}

// SessionID returns the session identifier of a refresh request's
// Sec-Secure-Session-Id header, or [ErrNoHeader], or [ErrHeader] when the
// header is repeated, longer than [MaxSessionIDHeader], or not one RFC 8941
// Item.
//
// The draft (section 9.4) makes the value an sf-string ("s1" in quotes);
// Chromium (checked in its source and on the wire with Debian's Chromium
// 156) sends the bare identifier (s1). Both are accepted, and nothing else:
// a bare value must be an sf-token, which every identifier from
// [NewSessionIdentifier] is. Parameters are checked for syntax and ignored,
// as the draft says.
func SessionID(h http.Header) (string, error) {
	v, err := oneItem(h, HeaderSessionID, MaxSessionIDHeader)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", ErrHeader
	}
	return v, nil
}

// ProofJWT returns the compact JWT of a request's Secure-Session-Response
// header, with the same rules as [SessionID] ([MaxProofBytes] as the
// limit): the draft quotes it as an sf-string, Chromium sends it bare (a JWT
// always starts "eyJ", so it is an sf-token). The JWT itself is checked by
// [VerifyRegistration] and [VerifyRefresh].
func ProofJWT(h http.Header) (string, error) {
	return oneItem(h, HeaderResponse, MaxProofBytes)
}

// oneItem reads the single field line name of h as a String or Token Item.
func oneItem(h http.Header, name string, limit int) (string, error) {
	vals := h.Values(name)
	switch {
	case len(vals) == 0:
		return "", ErrNoHeader
	case len(vals) > 1:
		// Two field lines combine into a list of two: not one Item.
		return "", ErrHeader
	case len(vals[0]) > limit:
		return "", ErrHeader
	}
	v, err := parseItemStringOrToken(vals[0])
	if err != nil {
		return "", ErrHeader
	}
	return v, nil
}

// validIdentifier reports whether id can be a session identifier that both
// header forms carry unchanged: a non-empty sf-token of at most 128 bytes.
func validIdentifier(id string) bool {
	return len(id) <= 128 && isToken(id)
}
