package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is what Inspect found in a database.
type Status struct {
	// Schema is the database's session schema version (0: no session
	// tables yet) and Latest the version Open would migrate it to.
	Schema, Latest int
	// Live is the number of sessions that have not expired, counted only
	// when Schema is at least 1.
	Live int64
}

// Inspect reports the schema version and the live sessions of the
// database at url in a READ ONLY transaction: unlike Open, it never
// creates, migrates or sweeps anything, so health checks such as tether
// doctor can run against a live server's database. Errors never contain
// url or any part of it but the server's address.
func Inspect(ctx context.Context, url string) (Status, error) {
	names, err := migrations()
	if err != nil {
		return Status{}, err
	}
	st := Status{Latest: len(names)}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return st, errors.New("pgstore: inspect: not a valid PostgreSQL URL or connection string")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return st, classify("inspect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('`+schemaTable+`') IS NOT NULL`).Scan(&exists); err != nil || !exists {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+schemaTable).Scan(&st.Schema); err != nil || st.Schema < 1 {
			return err
		}
		// idle_deadline is never after absolute_deadline.
		return tx.QueryRow(ctx, `SELECT count(*) FROM tether_sessions WHERE idle_deadline > $1`,
			time.Now().UnixMilli()).Scan(&st.Live)
	})
	return st, classify("inspect", err)
}
