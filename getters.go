package tether

import (
	"encoding/json"
	"unicode/utf8"
)

// GetString returns the string stored under key, "" if there is none or it is
// not a string.
func (s *Session) GetString(key string) string {
	raw := s.raw(key)
	// Fast path: a JSON string without escapes is its own contents.
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		body := raw[1 : len(raw)-1]
		plain := true
		for _, c := range body {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(body) {
			return string(body)
		}
	}
	var v string
	if raw != nil {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

// GetBool returns the boolean stored under key, false if there is none or it
// is not a boolean.
func (s *Session) GetBool(key string) bool {
	switch raw := s.raw(key); string(raw) {
	case "true":
		return true
	case "false", "":
		return false
	default:
		return decodeBool(raw)
	}
}

// decodeBool is GetBool's slow path (see decodeInt64).
func decodeBool(raw json.RawMessage) bool {
	var v bool
	_ = json.Unmarshal(raw, &v)
	return v
}

// GetInt64 returns the integer stored under key, 0 if there is none or it is
// not an integer.
func (s *Session) GetInt64(key string) int64 {
	raw := s.raw(key)
	if n, ok := plainInt(raw); ok { // what Incr and Set of an int store
		return n
	}
	if raw == nil {
		return 0
	}
	return decodeInt64(raw)
}

// decodeInt64 is GetInt64's slow path, kept apart so that the value it
// decodes into is allocated only when a value needs encoding/json.
func decodeInt64(raw json.RawMessage) int64 {
	var v int64
	_ = json.Unmarshal(raw, &v)
	return v
}

// raw returns the stored JSON of key, nil when there is none. The caller
// must not modify it.
func (s *Session) raw(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return nil
	}
	return s.rec.Values[key]
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
