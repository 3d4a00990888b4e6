package unixms

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		ms   int64
	}{
		{"zero time is 0", time.Time{}, 0},
		{"truncated to the millisecond", time.UnixMilli(1764000000123).Add(999 * time.Microsecond), 1764000000123},
		{"before 1970", time.UnixMilli(-5), -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := From(tt.in); got != tt.ms {
				t.Fatalf("From: got %d, want %d", got, tt.ms)
			}
			if got := To(tt.ms); !got.Equal(tt.in.Truncate(time.Millisecond)) && !(tt.ms == 0 && got.IsZero()) {
				t.Fatalf("To(%d): got %v, want %v", tt.ms, got, tt.in)
			}
		})
	}
}
