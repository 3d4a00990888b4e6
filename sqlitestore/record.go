package sqlitestore

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// recordColumns are the columns scanRecord reads, in its order.
const recordColumns = `user_id, vals, created_at, authenticated_at, idle_deadline, absolute_deadline`

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
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// scanRecord reads the recordColumns of one row.
func scanRecord(row interface{ Scan(...any) error }, extra ...any) (*tether.Record, error) {
	var (
		rec                        tether.Record
		vals                       []byte
		created, authed, idle, abs int64
	)
	dst := append(extra, &rec.UserID, &vals, &created, &authed, &idle, &abs)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(vals, &rec.Values); err != nil {
		return nil, fmt.Errorf("corrupt values column: %w", err)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	rec.CreatedAt, rec.AuthenticatedAt = unixms.To(created), unixms.To(authed)
	rec.IdleDeadline, rec.AbsoluteDeadline = unixms.To(idle), unixms.To(abs)
	return &rec, nil
}
