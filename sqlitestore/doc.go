// Package sqlitestore is the embedded [tether.Store]: sessions in one SQLite
// file through modernc.org/sqlite (pure Go, no cgo). It is the reference
// server's default store, and sessions survive a restart. One file serves one
// host: several instances of a server need a shared store such as redisstore.
//
// # Opening
//
// Open takes a file path, creates the file if needed and configures it:
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	// store is a tether.Store, a tether.UserIndex and a tether.Pinger.
//
// New does the same on a *sql.DB the caller opened, for a program that keeps
// its own tables in the same file (prefix them, as this package prefixes its
// tables with tether_). Open that *sql.DB with the DSN this package builds,
// DSN(path), or with equivalent parameters.
//
// Open and New apply the schema migrations embedded in the package, each
// file in the same transaction as the row that records its version in the
// tether_sessions_schema table. Reopening an up-to-date file changes
// nothing; a file written by a newer version of this package is refused with
// an error wrapping ErrNewerSchema rather than misread.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: a crash of the
// process loses nothing that was committed, a power failure may lose the
// last transactions. For sessions that is the usual trade.
//
// # Concurrency
//
// A Store is safe for concurrent use. Its writes (Create, Load, Update,
// Delete, DeleteUser and the sweeper) go one at a time through a write slot
// in the Store, so its own goroutines queue in Go, in order and subject to
// their context, instead of polling SQLite's lock: 200 concurrent increments
// of one counter cost 200 short transactions, not a storm of SQLITE_BUSY
// retries. Other writers on the same file (another Store, the program's own
// tables, a second process) are serialized by SQLite's write lock; a
// statement waits up to the busy timeout (5 s with DSN) before it fails.
// Readers (ListUser, Ping) run beside the writer, as WAL allows.
//
// Load is one statement, UPDATE … RETURNING, which moves the idle deadline
// of a live record and returns an expired record unchanged, so a request
// that reads a session costs one round trip. Update reads the record,
// applies the [tether.Patch] with Patch.Apply, and writes it back inside one
// BEGIN IMMEDIATE transaction, and only while the record exists and is
// live: concurrent updates of different keys and concurrent increments are
// never lost, and an Update racing a Delete never brings the record back.
//
// # Expiry
//
// A row expires at the earlier of its two deadlines; the store keeps the
// idle deadline capped at the absolute one, so that is the idle deadline,
// which is indexed. A background goroutine started by Open and New deletes
// expired rows every Options.SweepInterval (5 minutes by default); Close
// stops it. Sweep runs one pass on demand.
//
// # Errors
//
// Failures to reach the database (a closed Store, a done context, a lock
// that stayed busy past the timeout, I/O errors, a full disk) wrap
// [tether.ErrStoreUnavailable]; every error from the driver is wrapped with the
// operation, as in "sqlitestore: load: …". Errors never contain a store key.
package sqlitestore
