package tether

// Values and their encoding
//
// Every value is kept as JSON text, from [Session.Set] (encoding/json's
// json.Marshal) to the store and back: a store gives back the bytes it was
// given, and a [Patch] replaces or deletes whole values by key. What that
// means for each Go type, and what each typed getter reads back:
//
//	Go type              stored as                         read with
//	string               JSON string¹                      GetString
//	bool                 true / false                      GetBool
//	int, int8…, uint…    JSON integer, exact (no float)    GetInt, GetInt64
//	float32, float64     shortest JSON number²             GetFloat64
//	time.Time            RFC 3339 string with nanoseconds³ GetTime
//	[]byte               base64 string (std, padded)⁴      GetBytes
//	time.Duration        integer nanoseconds               time.Duration(GetInt64(k))
//	struct, map, slice   JSON object / array               Get(key, &dst)
//	nil, nil pointer     null (the key exists)             Get reports found
//
//	¹ invalid UTF-8 is replaced by U+FFFD, and <, >, & are escaped as
//	  \u003c…: use []byte for binary data.
//	² NaN and ±Inf are not JSON: Set returns an error and stores nothing. A
//	  float with an integral value below 1e21 is stored as an integer (3.0
//	  as 3), so GetInt64 reads it too; GetFloat64 reads any integer
//	  (exactly up to 2^53, rounded beyond).
//	³ time.RFC3339Nano, e.g. "2026-01-02T03:04:05.123456789+01:00". The
//	  instant and the UTC offset are kept; the zone's name and the monotonic
//	  clock reading are not (compare times with Equal, not ==). Years
//	  outside 0…9999 cannot be encoded: Set returns an error.
//	⁴ nil is stored as null and read back as nil; an empty slice as "" and
//	  read back as an empty, non-nil slice.
//
// Integers beyond 2^53 stay exact: values are kept as JSON text, never as
// float64, and GetInt64 parses the text. Only decoding into an interface
// (Get(key, &anyValue)) turns numbers into float64; decode into an integer
// type or a json.Number instead.
//
// Size: the encoded values and their keys together are bounded by
// [Config.MaxValueBytes] (64 KiB by default); a Set beyond it returns
// [ErrValueTooLarge] and changes nothing. The whole record is read on every
// request that uses the session, so keep it small: an ID, not a document.
//
// Missing or of another type: every typed getter returns its type's zero
// value when the key is missing, holds null, or holds a value of another
// type (GetInt64 of "7", of 1.5 or of 1e3 is 0). A caller that must tell
// these apart uses [Session.Get], which reports whether the key exists and
// returns encoding/json's error for a value of another type. A session that
// could not be loaded (a store outage) reads as empty: [Session.Err] says
// so, and the middleware answers such a request with the error.
//
// Codec: there is no pluggable codec. The store format, per-key patches
// (concurrent requests that change different keys keep both changes) and
// [Session.Incr] (the store adds to a JSON integer atomically) all rely on
// each value being one JSON value. Encode a value yourself and Set the
// resulting []byte (or string) to use another format.
//
// The getters read the JSON text directly where that was measured to save
// encoding/json's cost (BenchmarkGetters), and agree with encoding/json on
// every input (FuzzGetters).

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// GetString returns the string stored under key, "" if there is none or it is
// not a string. See the encoding notes at the top of getters.go: JSON
// strings, with invalid UTF-8 replaced by U+FFFD when Set encoded them.
func (s *Session) GetString(key string) string { return stringOf(s.raw(key)) }

// GetBool returns the boolean stored under key, false if there is none or it
// is not a boolean.
func (s *Session) GetBool(key string) bool { return boolOf(s.raw(key)) }

// GetInt returns the integer stored under key, 0 if there is none, it is not
// an integer (1.5 and 1e3 are not), or it does not fit in an int.
func (s *Session) GetInt(key string) int { return intOf(s.raw(key)) }

// GetInt64 returns the integer stored under key, 0 if there is none, it is
// not an integer (1.5 and 1e3 are not), or it does not fit in an int64. Every
// int64 is exact, beyond 2^53 too.
func (s *Session) GetInt64(key string) int64 { return int64Of(s.raw(key)) }

// GetFloat64 returns the number stored under key, 0 if there is none, it is
// not a number, or it is beyond float64's range. Integers are read too,
// rounded to the nearest float64 beyond 2^53. NaN and ±Inf cannot be stored
// (they are not JSON: Set returns an error).
func (s *Session) GetFloat64(key string) float64 { return float64Of(s.raw(key)) }

// GetTime returns the time stored under key, the zero time if there is none or
// it is not an RFC 3339 time string (what Set of a time.Time stores). The
// result has the stored UTC offset (time.UTC for "Z", time.Local when the
// offset is the local one, a fixed zone otherwise) and no monotonic clock
// reading: compare it with Equal.
func (s *Session) GetTime(key string) time.Time { return timeOf(s.raw(key)) }

// GetBytes returns a new copy of the bytes stored under key (Set of a []byte
// stores them as a base64 string), nil if there is none or it is not a
// base64 string. An empty slice reads back as an empty, non-nil slice.
func (s *Session) GetBytes(key string) []byte { return bytesOf(s.raw(key)) }

// raw returns the stored JSON of key, nil when there is none. The caller
// must not modify it.
func (s *Session) raw(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed || reserved(key) {
		return nil
	}
	return s.rec.Values[key]
}

// The xxxOf functions decode one stored value as the getters (and Pop…) do:
// exactly as json.Unmarshal into a zero value of the type would, returning
// the zero value when it reports an error; nil (a missing key) is zero.

func stringOf(raw json.RawMessage) string {
	// Fast path: a JSON string without escapes is its own contents.
	if body, ok := plainString(raw); ok && utf8.Valid(body) {
		return string(body)
	}
	var v string
	if raw != nil && json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v
}

// plainString returns the contents of a JSON string that holds no escape,
// quote or control character, so that its contents are its bytes (when they
// are valid UTF-8, which the caller checks if it matters).
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return body, true
}

func boolOf(raw json.RawMessage) bool {
	switch string(raw) {
	case "true":
		return true
	case "false", "":
		return false
	default:
		return decodeBool(raw)
	}
}

// decodeBool is boolOf's slow path (see decodeInt64).
func decodeBool(raw json.RawMessage) bool {
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	return v
}

func intOf(raw json.RawMessage) int {
	n := int64Of(raw)
	if int64(int(n)) != n { // an int64 beyond a 32-bit int
		return 0
	}
	return int(n)
}

func int64Of(raw json.RawMessage) int64 {
	if n, ok := plainInt(raw); ok { // what Incr and Set of an int store
		return n
	}
	if raw == nil {
		return 0
	}
	return decodeInt64(raw)
}

// decodeInt64 is int64Of's slow path, kept apart so that the value it
// decodes into is allocated only when a value needs encoding/json.
func decodeInt64(raw json.RawMessage) int64 {
	var v int64
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return v
}

// plainInt parses a canonical JSON integer (an optional minus, then digits
// without a leading zero) that fits in an int64, without allocating;
// anything else reports false and goes through encoding/json.
func plainInt(raw []byte) (int64, bool) {
	d := raw
	neg := len(d) > 0 && d[0] == '-'
	if neg {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || (d[0] == '0' && len(d) > 1) { // 18 digits always fit
		return 0, false
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func float64Of(raw json.RawMessage) float64 {
	if raw == nil {
		return 0
	}
	if isJSONNumber(raw) {
		// What encoding/json does with a number once it has checked its
		// syntax; the conversion of a short number does not allocate.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil { // beyond float64's range
			return 0
		}
		return f
	}
	return decodeFloat64(raw)
}

// decodeFloat64 is float64Of's slow path (see decodeInt64).
func decodeFloat64(raw json.RawMessage) float64 {
	var v float64
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return v
}

// isJSONNumber reports whether b is exactly a JSON number (RFC 8259: an
// optional minus, 0 or digits without a leading zero, an optional fraction,
// an optional exponent), with no space around it.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

func timeOf(raw json.RawMessage) time.Time {
	var t time.Time
	if raw == nil {
		return t
	}
	// encoding/json hands a time.Time the JSON value itself, without the
	// space around it, once it has checked the whole input's syntax.
	if body, ok := plainString(raw); ok && utf8.Valid(body) {
		// A plain string is valid JSON: skip the check.
		if t.UnmarshalJSON(raw) != nil {
			return time.Time{}
		}
		return t
	}
	return decodeTime(raw)
}

// decodeTime is timeOf's slow path (see decodeInt64).
func decodeTime(raw json.RawMessage) time.Time {
	var t time.Time
	if json.Unmarshal(raw, &t) != nil {
		return time.Time{}
	}
	return t
}

func bytesOf(raw json.RawMessage) []byte {
	if raw == nil {
		return nil
	}
	// Fast path: base64 text is ASCII without escapes; its JSON string's
	// contents are its bytes, decoded as encoding/json decodes them.
	if body, ok := plainString(raw); ok {
		b := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		n, err := base64.StdEncoding.Decode(b, body)
		if err != nil {
			return nil
		}
		return b[:n]
	}
	var v []byte
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}
