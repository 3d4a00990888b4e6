package throttle_test

import (
	"testing"

	"github.com/tetherhq/tether/throttle"
	"github.com/tetherhq/tether/throttle/throttletest"
)

func TestMemoryCounter(t *testing.T) {
	throttletest.Run(t, func(*testing.T) throttle.Counter { return throttle.NewMemory(nil) })
}
