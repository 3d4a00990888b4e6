package throttle_test

import (
	"testing"

	"github.com/tetherhq/tether/throttle"
	"github.com/tetherhq/tether/throttle/throttletest"
)

func TestMemoryCounter(t *testing.T) {
	t.Run("default size", func(t *testing.T) {
		throttletest.Run(t, func(*testing.T) throttle.Counter { return throttle.NewMemory(nil) })
	})
	// Small enough that the filler check fills it (issue 11 row 6).
	t.Run("100 keys", func(t *testing.T) {
		throttletest.Run(t, func(*testing.T) throttle.Counter { return throttle.NewMemorySize(nil, 100) })
	})
}
