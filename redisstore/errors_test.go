package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// A Redis that does not answer gives one layer of message, "redisstore: OP:
// CAUSE", that still matches tether.ErrStoreUnavailable (the middleware's
// 503) and the client's own error.
func TestUnavailableError(t *testing.T) {
	port := redistest.FreePort(t)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	defer rdb.Close()
	s, err := New(rdb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping of a closed port: got nil, want an error")
	}
	want := fmt.Sprintf("redisstore: ping: dial tcp 127.0.0.1:%d: connect: connection refused", port)
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "tether:") {
		t.Errorf("got %q, want no nested package prefixes", err)
	}
	if !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Errorf("errors.Is(%v, tether.ErrStoreUnavailable): got false, want true", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("errors.As(%v, *net.OpError): got %v, want the dial error", err, oe)
	}
}
