package redisstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tetherhq/tether"
)

// The load and update scripts return a session's hash as one MessagePack
// array of strings (Redis's built-in cmsgpack.pack of the HGETALL reply)
// rather than as a RESP array. One bulk string costs the client one
// allocation instead of two per field, and parsePacked slices keys and
// values out of it without copying each: the hot path of every request.

// maxPackedFields bounds the fields a reply may declare, so a corrupt
// length cannot make the parser allocate without limit.
const maxPackedFields = 1 << 16

var errPacked = errors.New("redisstore: malformed session reply")

// span is a string's position in the packed reply.
type span struct{ start, end int }

// unpack reads a MessagePack array of strings (str or bin families, as
// cmsgpack writes Lua strings) and returns where each string lies in b.
func unpack(b string) ([]span, error) {
	if len(b) == 0 {
		return nil, errPacked
	}
	var n, p int
	switch c := b[0]; {
	case c >= 0x90 && c <= 0x9f:
		n, p = int(c&0x0f), 1
	case c == 0xdc && len(b) >= 3:
		n, p = int(binary.BigEndian.Uint16([]byte(b[1:3]))), 3
	case c == 0xdd && len(b) >= 5:
		n, p = int(binary.BigEndian.Uint32([]byte(b[1:5]))), 5
	default:
		return nil, errPacked
	}
	if n > maxPackedFields || n > len(b)-p { // each element takes at least one byte
		return nil, errPacked
	}
	out := make([]span, 0, n)
	for range n {
		if p >= len(b) {
			return nil, errPacked
		}
		var l, h int
		switch c := b[p]; {
		case c >= 0xa0 && c <= 0xbf:
			l, h = int(c&0x1f), 1
		case (c == 0xd9 || c == 0xc4) && p+2 <= len(b):
			l, h = int(b[p+1]), 2
		case (c == 0xda || c == 0xc5) && p+3 <= len(b):
			l, h = int(binary.BigEndian.Uint16([]byte(b[p+1:p+3]))), 3
		case (c == 0xdb || c == 0xc6) && p+5 <= len(b):
			l, h = int(binary.BigEndian.Uint32([]byte(b[p+1:p+5]))), 5
		default:
			return nil, errPacked
		}
		start := p + h
		if l < 0 || l > len(b)-start {
			return nil, errPacked
		}
		out = append(out, span{start, start + l})
		p = start + l
	}
	if p != len(b) {
		return nil, errPacked
	}
	return out, nil
}

// parsePacked turns a packed hash reply into a Record. Keys are substrings
// of b; values share one copy of b, each capped so that appending to one
// cannot overwrite the next.
func parsePacked(b string) (*tether.Record, error) {
	spans, err := unpack(b)
	if err != nil {
		return nil, err
	}
	if len(spans)%2 != 0 {
		return nil, errors.New("redisstore: malformed session hash")
	}
	buf := []byte(b)
	rec := &tether.Record{Values: make(map[string]json.RawMessage, len(spans)/2)}
	for i := 0; i < len(spans); i += 2 {
		name, v := b[spans[i].start:spans[i].end], spans[i+1]
		if k, ok := strings.CutPrefix(name, "v:"); ok {
			rec.Values[k] = json.RawMessage(buf[v.start:v.end:v.end])
			continue
		}
		if err := setField(rec, name, b[v.start:v.end]); err != nil {
			return nil, err
		}
	}
	return checkDeadlines(rec)
}
