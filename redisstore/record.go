package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// A session is one Redis string under prefix+"s:"+key:
//
//	byte 0        format version, '1'
//	bytes 1-13    idle deadline, Unix ms, 13 decimal digits (also the key's
//	              expiry, plus Options.Grace)
//	bytes 14-26   absolute deadline, Unix ms
//	bytes 27-39   created, Unix ms
//	bytes 40-52   authenticated, Unix ms (all zeros when anonymous)
//	bytes 53-     MessagePack array of strings: user ID ("" when anonymous),
//	              then name, JSON value, name, JSON value, …
//
// Fixed-width deadlines let the load script check and move them with
// string.sub and SETRANGE, without decoding the rest: reading a session is a
// GET inside a script, not a hash brought into Lua field by field, which is
// what costs Redis the most per request. Changes go through the update
// script, which decodes the values with cmsgpack, applies the patch and
// writes the string back, all in one atomic step.

const (
	formatVersion = '1'
	msWidth       = 13
	headerLen     = 1 + 4*msWidth
	maxMS         = 9999999999999 // the largest time 13 digits hold (year 2286)
)

var errHeader = errors.New("redisstore: malformed session record header")

// encodeRecord renders rec in the format above, its idle deadline capped at
// the absolute one, and returns that capped idle deadline (Unix ms), which
// is also what the key's expiry follows.
func encodeRecord(rec *tether.Record) (val string, idle int64, err error) {
	idle = min(unixms.From(rec.IdleDeadline), unixms.From(rec.AbsoluteDeadline))
	if 1+2*len(rec.Values) > maxPackedFields {
		return "", 0, fmt.Errorf("redisstore: %d values, more than a session record holds", len(rec.Values))
	}
	items := make([]string, 0, 1+2*len(rec.Values))
	items = append(items, rec.UserID)
	for k, v := range rec.Values {
		items = append(items, k, string(v))
	}
	size := headerLen + 5
	for _, it := range items {
		size += 5 + len(it)
	}
	b := make([]byte, 0, size)
	b = append(b, formatVersion)
	for _, t := range []int64{idle, unixms.From(rec.AbsoluteDeadline), unixms.From(rec.CreatedAt), unixms.From(rec.AuthenticatedAt)} {
		if t < 0 || t > maxMS {
			return "", 0, fmt.Errorf("redisstore: time %d ms outside the record format's range", t)
		}
		b = appendMS(b, t)
	}
	return string(appendPacked(b, items)), idle, nil
}

// appendMS appends t as exactly msWidth decimal digits.
func appendMS(b []byte, t int64) []byte {
	var d [msWidth]byte
	for i := msWidth - 1; i >= 0; i-- {
		d[i] = byte('0' + t%10)
		t /= 10
	}
	return append(b, d[:]...)
}

// readMS reads the msWidth digits at b[at:].
func readMS(b string, at int) (int64, bool) {
	var n int64
	for _, c := range []byte(b[at : at+msWidth]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// decodeRecord turns a stored session into a Record. Names are substrings
// of b; values share one copy of b, each capped so that appending to one
// cannot overwrite the next.
func decodeRecord(b string) (*tether.Record, error) {
	if len(b) < headerLen || b[0] != formatVersion {
		return nil, errHeader
	}
	var t [4]int64
	for i := range t {
		n, ok := readMS(b, 1+i*msWidth)
		if !ok {
			return nil, errHeader
		}
		t[i] = n
	}
	if t[0] == 0 || t[1] == 0 {
		return nil, errors.New("redisstore: session record without deadlines")
	}
	spans, err := unpack(b[headerLen:])
	if err != nil {
		return nil, err
	}
	if len(spans)%2 != 1 {
		return nil, errPacked
	}
	body := b[headerLen:]
	buf := []byte(body)
	rec := &tether.Record{
		UserID:           body[spans[0].start:spans[0].end],
		IdleDeadline:     unixms.To(t[0]),
		AbsoluteDeadline: unixms.To(t[1]),
		CreatedAt:        unixms.To(t[2]),
		AuthenticatedAt:  unixms.To(t[3]),
		Values:           make(map[string]json.RawMessage, len(spans)/2),
	}
	for i := 1; i < len(spans); i += 2 {
		v := spans[i+1]
		rec.Values[body[spans[i].start:spans[i].end]] = json.RawMessage(buf[v.start:v.end:v.end])
	}
	return rec, nil
}
