// Package demo is the account the JSON and htmx examples sign in with.
//
// A real app looks the user up in its database and verifies a password
// hash (argon2id: package github.com/tetherhq/tether/passwords) behind
// login throttling (package github.com/tetherhq/tether/throttle); it never
// keeps or compares plain passwords.
package demo

import "crypto/subtle"

// The demo account.
const (
	UserID   = "user-1"
	User     = "alice"
	Password = "correct horse battery staple"
)

// CheckPassword reports whether name and password are the demo account's,
// in constant time.
func CheckPassword(name, password string) bool {
	okName := subtle.ConstantTimeCompare([]byte(name), []byte(User))
	okPass := subtle.ConstantTimeCompare([]byte(password), []byte(Password))
	return okName&okPass == 1
}
