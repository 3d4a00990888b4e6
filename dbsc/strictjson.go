package dbsc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits of the strict JSON reader: JWT headers, payloads and JWKs are small
// flat objects.
const (
	maxJSONDepth   = 4
	maxObjectKeys  = 32
	maxClaimBytes  = 1024 // jti, authorization
	maxStringBytes = 1024 // longest JWK member: n of a 4096-bit key, 683 bytes
)

var errJSON = errors.New("not one well-formed JSON object")

// parseObject reads raw, which must be exactly one JSON object, into a map
// from its keys to their raw values. It refuses, where encoding/json would
// silently pick one reading:
//
//   - invalid UTF-8 (json.Unmarshal replaces it with U+FFFD);
//   - a key repeated in any object, or two keys equal under case folding
//     ("alg" and "ALG": json.Unmarshal into a struct keeps the last one that
//     matches a field case-insensitively, so two verifiers could read two
//     algorithms from one header);
//   - anything after the object (a second value, or garbage);
//   - nesting deeper than maxJSONDepth or more than maxObjectKeys keys.
//
// Lookups in the returned map are exact, never case-folded.
func parseObject(raw []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(raw) {
		return nil, errJSON
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errJSON
	}
	if err := checkObject(dec, 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errJSON
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errJSON
	}
	return m, nil
}

// checkObject reads the members of an object whose '{' was read, and its '}'.
func checkObject(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	keys := make([]string, 0, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errJSON
		}
		k, ok := tok.(string)
		if !ok || len(keys) == maxObjectKeys {
			return errJSON
		}
		for _, prev := range keys {
			if strings.EqualFold(prev, k) {
				return errJSON
			}
		}
		keys = append(keys, k)
		if err := checkValue(dec, depth); err != nil {
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errJSON
	}
	return nil
}

// checkValue reads one value inside an object or array at depth.
func checkValue(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return errJSON
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, depth+1)
	case json.Delim('['):
		if depth+1 > maxJSONDepth {
			return errJSON
		}
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
			return errJSON
		}
	}
	return nil
}

// stringMember returns m[name] when it is a JSON string of at most limit
// bytes; present is false when the member is absent. A member that is
// present but not a string (null included) is an error.
func stringMember(m map[string]json.RawMessage, name string, limit int) (s string, present bool, err error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", true, errJSON
	}
	if err := json.Unmarshal(raw, &s); err != nil || len(s) > limit {
		return "", true, errJSON
	}
	return s, true, nil
}

// decodeB64URL decodes unpadded base64url strictly: only the 64 alphabet
// bytes (encoding/base64 would skip '\r' and '\n'), no '=' padding, and no
// non-zero trailing bits (so one value has one encoding).
func decodeB64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return nil, errors.New("not base64url")
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}
