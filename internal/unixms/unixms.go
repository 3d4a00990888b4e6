// Package unixms converts times to and from Unix milliseconds, the unit in
// which the stores keep every time, with the zero time as 0 both ways.
package unixms

import "time"

// From returns t as Unix milliseconds; the zero time is 0.
func From(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// To is the inverse of From: 0 is the zero time.
func To(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
