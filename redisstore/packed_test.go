package redisstore

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// pack is a MessagePack encoder of a string array for tests, using the
// widest-compatible forms (fix, then 8/16/32-bit str; arrays 16/32).
func pack(items []string, bin bool) string {
	var b []byte
	switch n := len(items); {
	case n < 16:
		b = append(b, 0x90|byte(n))
	case n < 1<<16:
		b = append(b, 0xdc)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0xdd)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	for _, s := range items {
		switch l := len(s); {
		case l < 32 && !bin:
			b = append(b, 0xa0|byte(l))
		case l < 256:
			b = append(b, map[bool]byte{false: 0xd9, true: 0xc4}[bin], byte(l))
		case l < 1<<16:
			b = append(b, map[bool]byte{false: 0xda, true: 0xc5}[bin])
			b = binary.BigEndian.AppendUint16(b, uint16(l))
		default:
			b = append(b, map[bool]byte{false: 0xdb, true: 0xc6}[bin])
			b = binary.BigEndian.AppendUint32(b, uint32(l))
		}
		b = append(b, s...)
	}
	return string(b)
}

func TestParsePacked(t *testing.T) {
	long := `"` + strings.Repeat("x", 70000) + `"`
	fields := []string{"_i", "1700000001000", "_a", "1700000002000", "_c", "1700000000000", "_u", "user-1001",
		"v:username", `"alice"`, "v:n", "42", "v:big", long, "v:mid", `"` + strings.Repeat("y", 300) + `"`}
	for _, bin := range []bool{false, true} {
		rec, err := parsePacked(pack(fields, bin))
		if err != nil {
			t.Fatalf("bin=%v: %v", bin, err)
		}
		if rec.UserID != "user-1001" || rec.IdleDeadline.UnixMilli() != 1700000001000 || rec.AbsoluteDeadline.UnixMilli() != 1700000002000 ||
			string(rec.Values["username"]) != `"alice"` || string(rec.Values["n"]) != "42" || string(rec.Values["big"]) != long || len(rec.Values) != 4 {
			t.Fatalf("bin=%v: got %+v", bin, rec)
		}
		// Values share one buffer; each is capped at its length so that
		// an append by the caller copies instead of clobbering the next.
		for k, v := range rec.Values {
			if cap(v) != len(v) {
				t.Fatalf("bin=%v: value %q: got cap %d, want len %d (a full slice expression)", bin, k, cap(v), len(v))
			}
		}
	}
	many := make([]string, 0, 40)
	for i := range 20 {
		many = append(many, "v:k"+strings.Repeat("z", i), "1")
	}
	many = append(many, "_i", "1", "_a", "2")
	if rec, err := parsePacked(pack(many, false)); err != nil || len(rec.Values) != 20 {
		t.Fatalf("array16: got %v %v", rec, err)
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"not an array", "\xa1x"},
		{"odd count", pack([]string{"_i", "1", "_a"}, false)},
		{"truncated", pack(fields, false)[:40]},
		{"trailing bytes", pack(fields, false) + "\x00"},
		{"huge declared array", "\xdd\xff\xff\xff\xff"},
		{"huge declared string", "\x91\xdb\xff\xff\xff\xff"},
		{"integer element", "\x92\xa2_i\x01"},
		{"no deadlines", pack([]string{"v:a", "1"}, false)},
		{"bad deadline", pack([]string{"_i", "soon", "_a", "2"}, false)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if rec, err := parsePacked(tc.in); err == nil {
				t.Fatalf("got %+v, want an error", rec)
			}
		})
	}
}

// FuzzParsePacked: the parser of what Redis returns never panics, never
// accepts a reply that a re-encoding does not reproduce, and reads the same
// record as parse does from the same fields as a plain array reply.
func FuzzParsePacked(f *testing.F) {
	f.Add(pack([]string{"_i", "1", "_a", "2", "v:x", `"y"`}, false))
	f.Add(pack([]string{"_i", "1", "_a", "2"}, true))
	f.Add("\xdc\x00\x02\xa2_i\xa11")
	f.Fuzz(func(t *testing.T, in string) {
		spans, err := unpack(in)
		if err != nil {
			return
		}
		items := make([]string, len(spans))
		for i, s := range spans {
			items[i] = in[s.start:s.end]
		}
		if _, err := unpack(pack(items, false)); err != nil {
			t.Fatalf("re-encoding of %q does not unpack: %v", items, err)
		}
		got, gerr := parsePacked(in)
		want, werr := parse(items)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("items %q: parsePacked error %v, parse error %v; want both or neither", items, gerr, werr)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("items %q: parsePacked %+v, parse %+v", items, got, want)
		}
	})
}
