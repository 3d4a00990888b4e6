package throttle_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/tetherhq/tether/throttle"
)

// checkPassword stands for the application's password check.
func checkPassword(username, password string) bool { return password == "correct horse" }

// A login handler's use of the Limiter: Begin before the password check,
// Succeeded after a right password, nothing more after a wrong one.
func Example() {
	ctx := context.Background()
	l := throttle.New(throttle.NewMemory(nil), throttle.Policy{AccountLimit: 3, Window: 15 * time.Minute})

	login := func(a throttle.Attempt, password string) string {
		ticket, retryAfter, which, err := l.Begin(ctx, a)
		switch {
		case err != nil:
			return "503: " + err.Error()
		case ticket == nil:
			return fmt.Sprintf("429: too many failures on this %s, retry in %v", which, retryAfter.Round(time.Minute))
		case !checkPassword(a.Username, password):
			return "401"
		}
		if err := ticket.Succeeded(ctx); err != nil {
			log.Print(err)
		}
		return "200"
	}

	stranger := throttle.Attempt{Username: "alice", IP: "203.0.113.9"}
	for range 4 {
		fmt.Println(login(stranger, "guess"))
	}
	// Alice, from another address but no known device, is locked out too.
	fmt.Println(login(throttle.Attempt{Username: "alice", IP: "198.51.100.7"}, "correct horse"))
	// Output:
	// 401
	// 401
	// 401
	// 429: too many failures on this account, retry in 15m0s
	// 429: too many failures on this account, retry in 15m0s
}

// A browser that logged in before carries a device cookie; its attempts are
// counted apart, so a stranger who used up the account's limit does not
// lock its owner out.
func ExampleDeviceCookies() {
	ctx := context.Background()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	devices, err := throttle.NewDeviceCookies([][]byte{key}, throttle.DeviceOptions{Secure: true})
	if err != nil {
		log.Fatal(err)
	}
	// The stored password hash: a new one at every password change voids
	// the cookies issued before it.
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

	// Alice logged in from this browser last week: it got a cookie.
	rec := httptest.NewRecorder()
	devices.Issue(rec, "alice", hash)
	cookie := rec.Result().Cookies()[0]

	l := throttle.New(throttle.NewMemory(nil), throttle.Policy{AccountLimit: 3})
	for range 3 { // a stranger uses up alice's limit
		_, _, _, _ = l.Begin(ctx, throttle.Attempt{Username: "alice", IP: "203.0.113.9"})
	}

	r := httptest.NewRequest("POST", "/login", nil)
	r.AddCookie(cookie)
	device := devices.Verify(r, "alice", hash)
	ticket, _, which, err := l.Begin(ctx, throttle.Attempt{Username: "alice", IP: "198.51.100.7", Device: device})
	fmt.Println(cookie.Name, cookie.HttpOnly, device != "", ticket != nil, which == "", err)
	// Output: __Host-device true true true true <nil>
}

// A full memory counter refuses new keys rather than forget a window that
// still runs, so filler keys cannot wipe a targeted account's count.
func ExampleNewMemorySize() {
	ctx := context.Background()
	l := throttle.New(throttle.NewMemorySize(nil, 4), throttle.Policy{AccountLimit: 2, Window: 15 * time.Minute})
	answer := func(a throttle.Attempt) string {
		ticket, retryAfter, which, err := l.Begin(ctx, a)
		switch {
		case err != nil:
			return "503"
		case ticket == nil:
			return fmt.Sprintf("429 %s, retry in %v", which, retryAfter.Round(time.Minute))
		}
		return "401" // a wrong password
	}
	target := throttle.Attempt{Username: "alice", IP: "203.0.113.9"}
	fmt.Println(answer(target), answer(target))                                      // keys: alice, 203.0.113.9
	fmt.Println(answer(throttle.Attempt{Username: "filler", IP: "2001:db8::1"}))     // keys: filler, 2001:db8::/64: full
	fmt.Println(answer(throttle.Attempt{Username: "filler2", IP: "2001:db8::2"}))    // a new key: refused
	fmt.Println(answer(throttle.Attempt{Username: "alice", IP: "2001:db8::ffff:1"})) // alice's count is kept
	// Output:
	// 401 401
	// 401
	// 429 full, retry in 15m0s
	// 429 account, retry in 15m0s
}
