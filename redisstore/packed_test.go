package redisstore

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// pack encodes items as a MessagePack array: of str, as appendPacked
// writes (and cmsgpack), or of bin, which the parser must read too.
func pack(items []string, bin bool) string {
	if !bin {
		return string(appendPacked(nil, items))
	}
	b := appendArrayHeader(nil, len(items))
	for _, s := range items {
		switch l := len(s); {
		case l < 256:
			b = append(b, 0xc4, byte(l))
		case l < 1<<16:
			b = append(b, 0xc5)
			b = binary.BigEndian.AppendUint16(b, uint16(l))
		default:
			b = append(b, 0xc6)
			b = binary.BigEndian.AppendUint32(b, uint32(l))
		}
		b = append(b, s...)
	}
	return string(b)
}

// record builds a stored session by hand: header fields, then the packed
// user ID and name/value pairs.
func record(idle, abs, created, authed string, items []string, bin bool) string {
	return "1" + idle + abs + created + authed + pack(items, bin)
}

func TestDecodeRecord(t *testing.T) {
	long := `"` + strings.Repeat("x", 70000) + `"`
	items := []string{"user-1001", "username", `"alice"`, "n", "42", "big", long, "mid", `"` + strings.Repeat("y", 300) + `"`}
	for _, bin := range []bool{false, true} {
		rec, err := decodeRecord(record("1700000001000", "1700000002000", "1700000000000", "0000000000000", items, bin))
		if err != nil {
			t.Fatalf("bin=%v: %v", bin, err)
		}
		if rec.UserID != "user-1001" || rec.IdleDeadline.UnixMilli() != 1700000001000 || rec.AbsoluteDeadline.UnixMilli() != 1700000002000 ||
			rec.CreatedAt.UnixMilli() != 1700000000000 || !rec.AuthenticatedAt.IsZero() ||
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
	many := []string{""}
	for i := range 20 {
		many = append(many, "k"+strings.Repeat("z", i), "1")
	}
	if rec, err := decodeRecord(record("0000000000001", "0000000000002", "0000000000000", "0000000000000", many, false)); err != nil || len(rec.Values) != 20 {
		t.Fatalf("array16: got %v %v", rec, err)
	}
	good := record("1700000001000", "1700000002000", "1700000000000", "1700000000000", items, false)
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"header only, no values", good[:headerLen]},
		{"other version", "2" + good[1:]},
		{"short header", good[:20]},
		{"letters in a deadline", "1170000000100x" + good[14:]},
		{"no idle deadline", record("0000000000000", "1700000002000", "1700000000000", "0000000000000", items, false)},
		{"no absolute deadline", record("1700000001000", "0000000000000", "1700000000000", "0000000000000", items, false)},
		{"not an array", good[:headerLen] + "\xa1x"},
		{"no user ID", good[:headerLen] + "\x90"},
		{"a name without a value", good[:headerLen] + pack([]string{"u", "n"}, false)},
		{"truncated", good[:headerLen+40]},
		{"trailing bytes", good + "\x00"},
		{"huge declared array", good[:headerLen] + "\xdd\xff\xff\xff\xff"},
		{"huge declared string", good[:headerLen] + "\x91\xdb\xff\xff\xff\xff"},
		{"integer element", good[:headerLen] + "\x93\xa1u\xa1n\x01"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if rec, err := decodeRecord(tc.in); err == nil {
				t.Fatalf("got %+v, want an error", rec)
			}
		})
	}
}

// TestEncodeDecodeRoundTrip: what Create stores reads back as the same record.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	now := time.UnixMilli(1764000000123)
	recs := []*tether.Record{
		{CreatedAt: now, IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(time.Hour), Values: map[string]json.RawMessage{}},
		{UserID: "user-1", CreatedAt: now, AuthenticatedAt: now, IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(time.Hour),
			Values: map[string]json.RawMessage{"a": json.RawMessage(`"x"`), "": json.RawMessage(`1`), "long": json.RawMessage(`"` + strings.Repeat("q", 1<<16) + `"`)}},
	}
	for i, rec := range recs {
		enc, _, err := encodeRecord(rec)
		if err != nil {
			t.Fatalf("record %d: encode: %v", i, err)
		}
		got, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("record %d: decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("record %d: got %+v, want %+v", i, got, rec)
		}
	}
	// The idle deadline is stored capped at the absolute one.
	capped := &tether.Record{IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Minute)}
	enc, _, _ := encodeRecord(capped)
	if got, _ := decodeRecord(enc); !got.IdleDeadline.Equal(capped.AbsoluteDeadline) {
		t.Fatalf("capped idle deadline: got %v, want %v", got.IdleDeadline, capped.AbsoluteDeadline)
	}
	if _, _, err := encodeRecord(&tether.Record{IdleDeadline: time.UnixMilli(maxMS + 1), AbsoluteDeadline: time.UnixMilli(maxMS + 1)}); err == nil {
		t.Fatal("a deadline past the format's range: got no error, want one")
	}
}

// FuzzDecodeRecord: the parser of stored sessions never panics, and what it
// accepts encodes back to a record it reads the same way.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(record("1700000001000", "1700000002000", "1700000000000", "0000000000000", []string{"u", "x", `"y"`}, false))
	f.Add(record("0000000000001", "0000000000002", "0000000000000", "0000000000000", []string{""}, true))
	f.Add("1" + strings.Repeat("0", 52) + "\xdc\x00\x01\xa0")
	f.Fuzz(func(t *testing.T, in string) {
		rec, err := decodeRecord(in)
		if err != nil {
			return
		}
		enc, _, err := encodeRecord(rec)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", rec, err)
		}
		again, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("re-encoding of %+v does not decode: %v", rec, err)
		}
		if !rec.IdleDeadline.After(rec.AbsoluteDeadline) && !reflect.DeepEqual(again, rec) {
			t.Fatalf("round trip: got %+v, want %+v", again, rec)
		}
	})
}
