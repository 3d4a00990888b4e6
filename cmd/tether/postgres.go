package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/pgstore"
)

// postgresStartupWait bounds connecting to PostgreSQL and migrating the
// session schema at start, as for the user directory.
const postgresStartupWait = 15 * time.Second

// openPostgresSessions opens the session store in PostgreSQL
// (SESSION_STORE=postgres, at DATABASE_URL): it connects, migrates the
// session schema (under an advisory lock, so instances starting together
// migrate once) and starts the sweeper. Errors name the server, never the
// URL's password.
func openPostgresSessions(ctx context.Context, cfg *config.Config) (*pgstore.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, postgresStartupWait)
	defer cancel()
	store, err := pgstore.Open(ctx, cfg.DatabaseURL, pgstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("cannot open the session store in PostgreSQL (SESSION_STORE=postgres, DATABASE_URL): %s; check that it runs and the URL's user, password and database",
			stripPrefixes(err.Error()))
	}
	return store, nil
}
