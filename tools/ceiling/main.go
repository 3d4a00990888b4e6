// Command ceiling is a measuring tool, not product code: the floor peer's
// session server (one Redis GET per GET /profile, no signing, no TTL
// refresh) that also sends exactly the response headers the reference
// server sends on its JSON answers at steady state: the API header set of
// DESIGN "Contract additions" (internal/server/apiheaders.go), Content-Type
// and Vary, and Set-Cookie only at login (handlers.go says why). The header
// values are fixed slices set per response without computing anything, the
// cheapest way net/http allows, so its throughput is the ceiling for any
// server that sends those headers, whatever it does about sessions.
//
//	GET  /profile  cookie sid -> one GET ceiling:<sid> -> stored JSON (401 if missing)
//	GET  /views    GET, views++, SET … EX 1800 (two round trips, as floor)
//	POST /login    alice / correct-horse -> random id, SET ceiling:<id> EX 1800, cookie sid
//
// Run: go run ./tools/ceiling -addr 127.0.0.1:3111 -redis 127.0.0.1:6390
// (loopback only), then ../shared/peers/bench-profile.sh http://127.0.0.1:3111.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3111", "listen address (loopback)")
	redisAddr := flag.String("redis", "127.0.0.1:6390", "Redis address")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("ceiling: -addr %q: want a loopback address (a measuring tool)", *addr)
	}
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		log.Fatalf("ceiling: Redis at %s: %v (start it, e.g. ../shared/peers/peers.sh start)", *redisAddr, err)
	}
	srv := &http.Server{Addr: *addr, Handler: newMux(rdb), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("ceiling listening on %s (%d fixed headers)", *addr, len(apiHeaders))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	_ = rdb.Close()
}
