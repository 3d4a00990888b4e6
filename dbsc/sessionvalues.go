package dbsc

import "time"

// How a store that keeps challenges in a tether session's values (a Patch
// of Set, Delete and Incr, applied atomically per record) makes Take
// atomic. tether's Store.Update returns the record after the patch, not
// whether a key existed, so "delete and report" is not available; an
// increment is, and its result tells the takers apart:
//
//   - Put sets [ChallengeKey](digest) to [ChallengeValue](expires), the
//     expiry in Unix seconds (positive, below 2^40).
//   - Take applies Incr {ChallengeKey(digest): [TakeIncrement]} and reads
//     the key's value in the returned record with [TakenExpiry]. The first
//     taker of an issued challenge sees expiry - 2^40 and gets the expiry
//     back; a second taker sees expiry - 2^41, and a take of a challenge
//     that was never issued sees -2^40 (a missing key counts as 0): both
//     get ok false. Increments on one record are never lost, in every
//     store, so of concurrent takers exactly one sees the first value.
//   - Taken or expired keys (value <= 0, or an expiry in the past) are
//     removed later by a Delete of those keys in any patch (the next Put,
//     say); a store may refuse a Put beyond a bound of outstanding keys.

// TakeIncrement is the increment that takes a challenge kept in session
// values: -2^40.
const TakeIncrement int64 = -(1 << 40)

// ChallengeValue is the integer stored under a challenge's key: its expiry
// in Unix seconds.
func ChallengeValue(expires time.Time) int64 { return expires.Unix() }

// TakenExpiry reads the value of a challenge's key after a [TakeIncrement]:
// the challenge's expiry and true for the first take of an issued
// challenge, false for every other.
func TakenExpiry(after int64) (time.Time, bool) {
	e := after - TakeIncrement
	if e <= 0 || e >= -TakeIncrement {
		return time.Time{}, false
	}
	return time.Unix(e, 0), true
}
