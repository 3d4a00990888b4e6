package tether

import (
	"bytes"
	"encoding/json"
	"testing"
)

// parseRenew reads what renewal stores, in the exact form json.Marshal
// writes and in any re-encoding of it (a store may reorder keys or add
// spaces), and refuses anything else: an unreadable state fails closed.
func TestParseRenew(t *testing.T) {
	h1, h2 := secretHash([]byte("one")), secretHash(nil)
	full, _ := json.Marshal(renewRecord{Cur: h1, Prev: h2, PrevUntil: 1767323045000, RenewedAt: 1767322985000})
	first, _ := json.Marshal(renewRecord{Cur: h1, RenewedAt: 1767322985000})
	cases := []struct {
		name  string
		raw   string
		exact bool // read without encoding/json
		ok    bool
	}{
		{"as marshalled", string(full), true, true},
		{"as marshalled, never renewed", string(first), true, true},
		{"re-encoded with spaces", `{"cur": "` + h1 + `", "prev": "` + h2 + `", "prevUntil": 1767323045000, "renewedAt": 1767322985000}`, false, true},
		{"keys reordered", `{"renewedAt":1767322985000,"prevUntil":1767323045000,"prev":"` + h2 + `","cur":"` + h1 + `"}`, false, true},
		{"empty", ``, false, false},
		{"not JSON", `cur=` + h1, false, false},
		{"cur missing", `{"renewedAt":1}`, false, false},
		{"cur too short", `{"cur":"abc","renewedAt":1}`, false, false},
		{"prev too short", `{"cur":"` + h1 + `","prev":"abc","prevUntil":1,"renewedAt":1}`, false, false},
		{"trailing bytes", string(full) + ` `, false, true},
		{"leading zero", `{"cur":"` + h1 + `","renewedAt":01}`, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, exact := parseRenewExact([]byte(tc.raw))
			v, ok := parseRenew([]byte(tc.raw))
			if exact != tc.exact || ok != tc.ok {
				t.Fatalf("parseRenewExact, parseRenew: got %v, %v, want %v, %v", exact, ok, tc.exact, tc.ok)
			}
			if ok && (string(v.cur) != h1 || v.renewedAt != 1767322985000) {
				t.Fatalf("got cur %s renewedAt %d, want %s 1767322985000", v.cur, v.renewedAt, h1)
			}
		})
	}
}

// FuzzParseRenew: no stored bytes make parseRenew panic, and whatever the
// exact reader accepts, encoding/json reads the same way (the fast path
// never disagrees with the general one).
func FuzzParseRenew(f *testing.F) {
	full, _ := json.Marshal(renewRecord{Cur: secretHash([]byte("a")), Prev: secretHash(nil), PrevUntil: 99, RenewedAt: 42})
	first, _ := json.Marshal(renewRecord{Cur: secretHash([]byte("a")), RenewedAt: 42})
	f.Add(full)
	f.Add(first)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"cur":"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, ok := parseRenewExact(raw)
		parseRenew(raw)
		if !ok {
			return
		}
		var st renewRecord
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatalf("exact reader accepted %q, encoding/json refuses it: %v", raw, err)
		}
		if st.Cur != string(v.cur) || !bytes.Equal([]byte(st.Prev), v.prev) || st.PrevUntil != v.prevUntil || st.RenewedAt != v.renewedAt {
			t.Fatalf("exact reader of %q: got %+v, encoding/json %+v", raw, v, st)
		}
	})
}
