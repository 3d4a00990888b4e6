package redisstore

import (
	"encoding/binary"
	"errors"
)

// A session is one Redis string (see record.go for its layout); its values
// are a MessagePack array of strings, which the update script reads and
// writes with Redis's built-in cmsgpack and decodeRecord slices without
// copying each: the hot path of every request.

// maxPackedFields bounds the fields a reply may declare, so a corrupt
// length cannot make the parser allocate without limit.
const maxPackedFields = 1 << 20

var errPacked = errors.New("redisstore: malformed session record")

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

// appendPacked appends items as a MessagePack array of str, in the shortest
// forms (what cmsgpack writes too).
func appendPacked(b []byte, items []string) []byte {
	b = appendArrayHeader(b, len(items))
	for _, s := range items {
		switch l := len(s); {
		case l < 32:
			b = append(b, 0xa0|byte(l))
		case l < 1<<8:
			b = append(b, 0xd9, byte(l))
		case l < 1<<16:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(l))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(l))
		}
		b = append(b, s...)
	}
	return b
}

// appendArrayHeader appends the header of a MessagePack array of n items.
func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n < 1<<16:
		b = append(b, 0xdc)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0xdd)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
}
