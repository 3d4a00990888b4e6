package tether

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzOpenSealed feeds the decoder of sealed values whatever a store might
// hold (its input is untrusted: anyone who can write the store), and checks
// the round trip of any plaintext: seal then open gives it back, the sealed
// form is valid JSON, and it opens under no other name or record.
func FuzzOpenSealed(f *testing.F) {
	ring, errs := newKeyring([][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)})
	if errs != nil {
		f.Fatal(errs)
	}
	c, other := ring.forRecord("k1"), ring.forRecord("k2")
	f.Add([]byte(c.seal("n", json.RawMessage(`{"a":[1,2]}`))), "n")
	f.Add([]byte(c.seal("", json.RawMessage(`""`))), "")
	f.Add([]byte(`"AQ"`), "n")
	f.Add([]byte(`"\u0041Q"`), "n")
	f.Add([]byte(`7`), "n")
	f.Add([]byte(`""`), "n")
	f.Add([]byte(`"`), "_tether.uid")
	f.Fuzz(func(t *testing.T, stored []byte, name string) {
		plain, err := c.open(name, stored)
		if err != nil {
			if !errors.Is(err, ErrUndecryptable) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("open: got %v, want an error matching ErrUndecryptable and ErrNotFound", err)
			}
		} else if again, err := c.open(name, c.seal(name, plain)); err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("re-sealed %q: got %q, %v", plain, again, err)
		}

		sealed := c.seal(name, stored)
		if !json.Valid(sealed) {
			t.Fatalf("sealed form %q is not valid JSON", sealed)
		}
		got, err := c.open(name, sealed)
		if err != nil || !bytes.Equal(got, stored) {
			t.Fatalf("round trip of %q: got %q, %v", stored, got, err)
		}
		if _, err := c.open(name+"x", sealed); !errors.Is(err, ErrUndecryptable) {
			t.Fatalf("opened under another name: got %v, want ErrUndecryptable", err)
		}
		if _, err := other.open(name, sealed); !errors.Is(err, ErrUndecryptable) {
			t.Fatalf("opened under another record: got %v, want ErrUndecryptable", err)
		}
	})
}
