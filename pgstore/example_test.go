package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/pgstore"
)

// Sessions shared by every instance of a server through PostgreSQL: open
// the store once at start (it migrates its schema under an advisory lock
// and starts the sweeper) and hand it to the Manager.
func Example() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{})
	if err != nil {
		log.Fatal(err) // names the server, never the password
	}
	defer store.Close()

	m, err := tether.New(tether.Config{
		Store:   store,
		Secrets: [][]byte{[]byte(os.Getenv("SESSION_SECRET"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /views", func(w http.ResponseWriter, r *http.Request) {
		// One UPDATE, exact under concurrency.
		n, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
		if err != nil { // 503 when PostgreSQL does not answer
			status, msg := tether.StatusOf(err)
			http.Error(w, msg, status)
			return
		}
		fmt.Fprintf(w, `{"views":%d}`, n)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", m.Handler(mux)))
}
