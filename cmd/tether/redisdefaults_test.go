package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/tetherhq/tether/redisstore"
)

// What REDIS_URL leaves unset gets the server's defaults; what it sets wins.
func TestRedisDefaults(t *testing.T) {
	tests := []struct {
		url                     string
		dial, read, write       time.Duration
		pool, retries, protocol int
	}{
		{"redis://127.0.0.1:6379", redisDialTimeout, redisIOTimeout, redisIOTimeout,
			redisPoolPerCPU * runtime.GOMAXPROCS(0), 1, 2},
		{"redis://127.0.0.1:6379?dial_timeout=1s&read_timeout=2s&write_timeout=3s&pool_size=7&max_retries=4&protocol=3",
			time.Second, 2 * time.Second, 3 * time.Second, 7, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			opts, err := redisstore.ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			redisDefaults(opts)
			got := [6]any{opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolSize, opts.MaxRetries, opts.Protocol}
			want := [6]any{tt.dial, tt.read, tt.write, tt.pool, tt.retries, tt.protocol}
			if got != want {
				t.Fatalf("dial, read, write, pool, retries, protocol: got %v, want %v", got, want)
			}
		})
	}
}
