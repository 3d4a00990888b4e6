package passwords_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/tetherhq/tether/passwords"
)

// Store a hash at sign-up; check a login against it; spend the same work
// for an unknown user.
func Example() {
	ctx := context.Background()
	h := passwords.NewHasher() // one per process

	stored, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, needsRehash, err := h.Verify(ctx, "correct horse battery", stored)
	fmt.Println(ok, needsRehash, err)
	ok, _, err = h.Verify(ctx, "Tr0ub4dor&3", stored)
	fmt.Println(ok, err)

	// No such user: as slow as a wrong password, and refused.
	fmt.Println(h.Dummy(ctx, "whatever was typed"))

	_, err = h.Hash(ctx, "short")
	fmt.Println(err)
	// Output:
	// true
	// true false <nil>
	// false <nil>
	// <nil>
	// the password is too short: use at least 8 bytes
}

// A hash stored with older, cheaper parameters still verifies, and Verify
// says it needs a rehash: store a fresh Hash after the successful login.
func ExampleHasher_Verify_rehash() {
	ctx := context.Background()
	old := passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	stored, err := old.Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}

	h := passwords.NewHasher()
	ok, needsRehash, err := h.Verify(ctx, "correct horse battery", stored)
	if err != nil {
		log.Fatal(err)
	}
	if ok && needsRehash {
		if stored, err = h.Hash(ctx, "correct horse battery"); err != nil {
			log.Fatal(err)
		}
	}
	p, _, _, err := passwords.Parse(stored)
	fmt.Println(ok, needsRehash, p == passwords.Default, err)
	// Output: true true true <nil>
}

// After the parameters are raised, stored hashes keep the old ones until
// their next login; the dummy work for unknown users follows the stored
// hashes the Hasher verifies, so both answers cost the same.
func ExampleHasher_DummyParams() {
	ctx := context.Background()
	old := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} // small, to keep the example quick
	stored, err := passwords.NewHasherWith(old, 1).Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}

	h := passwords.NewHasherWith(passwords.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	fmt.Println("before any login:", h.DummyParams().Memory, "KiB")
	if _, _, err := h.Verify(ctx, "a wrong guess", stored); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after old-parameter logins:", h.DummyParams().Memory, "KiB")
	if err := h.Dummy(ctx, "an unknown user's guess"); err != nil { // the work of one old-parameter Verify
		log.Fatal(err)
	}
	// Output:
	// before any login: 128 KiB
	// after old-parameter logins: 64 KiB
}

// At start, a user directory counts its stored hashes, so the dummy work
// for unknown users matches them from the first login.
func ExampleHasher_CountStored() {
	ctx := context.Background()
	old := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} // small, to keep the example quick
	stored, err := passwords.NewHasherWith(old, 1).Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}

	h := passwords.NewHasherWith(passwords.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	for _, phc := range []string{stored, stored, "not a hash"} { // e.g. SELECT password_hash FROM users
		if err := h.CountStored(phc); err != nil {
			fmt.Println("skipped:", err)
		}
	}
	fmt.Println("dummy memory:", h.DummyParams().Memory, "KiB")
	// Output:
	// skipped: passwords: stored hash is not a valid argon2id PHC string
	// dummy memory: 64 KiB
}
