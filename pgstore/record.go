package pgstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// recordColumns are the columns scanRecord reads, in its order. vals is
// read as text: the JSON exactly as stored.
const recordColumns = `user_id, vals::text, created_at, authenticated_at, idle_deadline, absolute_deadline`

// errNUL is returned for a value holding U+0000: PostgreSQL's JSON
// functions, which Update uses to merge a patch into the stored values,
// refuse the escape \u0000, so such a value is refused when it is written
// rather than breaking every later update of the session.
var errNUL = errors.New(`a session value contains U+0000, which PostgreSQL's JSON functions cannot process`)

// encodeValues encodes a record's values as one JSON object. Each value is
// validated and compacted; HTML characters are kept as they are.
func encodeValues(v map[string]json.RawMessage) (string, error) {
	if v == nil {
		v = map[string]json.RawMessage{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encode values: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if hasNUL(b) {
		return "", errNUL
	}
	return string(b), nil
}

// encodeValue validates and compacts one value for a patch.
func encodeValue(v json.RawMessage) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return "", fmt.Errorf("encode value: %w", err)
	}
	if hasNUL(buf.Bytes()) {
		return "", errNUL
	}
	return buf.String(), nil
}

// hasNUL reports whether the valid JSON text b contains the escape \u0000
// (a backslash that is not itself escaped, then u0000). Valid JSON never
// holds a raw NUL byte.
func hasNUL(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 < len(b) && b[i+1] == 'u' && bytes.HasPrefix(b[i+2:], []byte("0000")) {
			return true
		}
		i++ // skip the escaped character, so "\\u0000" is a backslash, then text
	}
	return false
}

// scanRecord reads the recordColumns of one row, after the extra
// destinations.
func scanRecord(row interface{ Scan(...any) error }, extra ...any) (*tether.Record, error) {
	var (
		rec                        tether.Record
		vals                       string
		created, authed, idle, abs int64
	)
	dst := append(extra, &rec.UserID, &vals, &created, &authed, &idle, &abs)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(vals), &rec.Values); err != nil {
		return nil, fmt.Errorf("corrupt vals column: %w", err)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	rec.CreatedAt, rec.AuthenticatedAt = unixms.To(created), unixms.To(authed)
	rec.IdleDeadline, rec.AbsoluteDeadline = unixms.To(idle), unixms.To(abs)
	return &rec, nil
}
