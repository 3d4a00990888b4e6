package tether_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/throttle"
)

// A limit of new anonymous sessions per client IP (here 2 a minute; the
// reference server's SESSION_CREATE_PER_IP is 120): the third cookieless
// request that would store a session gets 429 with Retry-After, and
// nothing is stored.
func ExampleConfig_allowCreate() {
	rate, err := throttle.NewRate(throttle.NewMemory(nil), "create:", 2, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	store := memstore.New()
	m, err := tether.New(tether.Config{
		Store:   store,
		Secrets: [][]byte{secretA},
		AllowCreate: func(r *http.Request) (time.Duration, error) {
			return rate.Allow(r.Context(), tether.RemoteIP(r)) // behind a proxy: package clientip
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		fmt.Fprintf(w, `{"views":%d}`, n)
	}))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/views", nil)) // no cookie
		fmt.Printf("%d Retry-After=%q\n", rec.Code, rec.Header().Get("Retry-After"))
	}
	fmt.Println("stored:", store.Len())
	// Output:
	// 200 Retry-After=""
	// 200 Retry-After=""
	// 429 Retry-After="60"
	// stored: 2
}
