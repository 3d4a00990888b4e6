package users

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tetherhq/tether/passwords"
)

//go:embed pgmigrations/*.sql
var pgMigrations embed.FS

// pgMigrationLock is the advisory lock key that serialises migrations when
// several instances start at once.
const pgMigrationLock = 0x7e7e_0001

// Postgres is a Directory in PostgreSQL (DATABASE_URL), through pgx v5, so
// every instance sees the same users. Same semantics as SQLite.
type Postgres struct {
	pool   *pgxpool.Pool
	hasher *passwords.Hasher
}

var _ Directory = (*Postgres)(nil)

// OpenPostgres connects to url, applies the embedded migrations (under an
// advisory lock), counts the parameters of up to 1000 stored hashes for h's
// dummy work (passwords.Hasher.CountStored) and returns the directory.
// Errors never contain the URL.
func OpenPostgres(ctx context.Context, url string, h *passwords.Hasher) (*Postgres, error) {
	if h == nil {
		h = passwords.NewHasher()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("users: DATABASE_URL is not a valid PostgreSQL URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("users: connect to PostgreSQL at %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("users: cannot reach PostgreSQL at %s:%d (from DATABASE_URL); check that it runs and the URL's user, password and database: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, redactPG(err))
	}
	if err := pgMigrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := countPostgres(ctx, pool, h); err != nil {
		pool.Close()
		return nil, err
	}
	return &Postgres{pool: pool, hasher: h}, nil
}

// redactPG keeps the error's class without connection details.
func redactPG(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Errorf("%s: %v", oe.Op, oe.Err) // e.g. "dial: connect: connection refused"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out")
	}
	return errors.New("connection failed")
}

func pgMigrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, _ := fs.Glob(pgMigrations, "pgmigrations/*.sql")
	sort.Strings(names)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("users: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
		return fmt.Errorf("users: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS tether_users_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("users: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM tether_users_schema`).Scan(&current); err != nil {
		return fmt.Errorf("users: migrate: %w", err)
	}
	if current > len(names) {
		return fmt.Errorf("users: the database has schema version %d but this program knows only %d; run a newer tether", current, len(names))
	}
	for i := current; i < len(names); i++ {
		body, _ := pgMigrations.ReadFile(names[i])
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("users: migration %s: %w", names[i], err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tether_users_schema (version) VALUES ($1)`, i+1); err != nil {
			return fmt.Errorf("users: migration %s: %w", names[i], err)
		}
	}
	return tx.Commit(ctx)
}

// Close closes the pool.
func (p *Postgres) Close() error { p.pool.Close(); return nil }

// Ping checks that PostgreSQL answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Add creates a user.
func (p *Postgres) Add(ctx context.Context, username, password, role string) (User, error) {
	if !ValidUsername(username) {
		return User{}, ErrInvalidUsername
	}
	if !ValidRole(role) {
		return User{}, ErrInvalidRole
	}
	hash, err := p.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var seq int64
	// The NOT EXISTS keeps a duplicate from spending a sequence number (an
	// INSERT that fails on the unique index would), so IDs stay dense as in
	// SQLite; the unique index still decides when two adds race.
	err = p.pool.QueryRow(ctx, `INSERT INTO tether_users (username, role, password_hash, created_at)
		SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM tether_users WHERE lower(username) = lower($1))
		RETURNING seq`, username, role, hash, now).Scan(&seq)
	var pe *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pe) && pe.Code == "23505" {
		return User{}, ErrUserExists
	}
	if err != nil {
		return User{}, fmt.Errorf("users: add: %w", err)
	}
	return User{ID: userID(seq), Username: username, Role: role, CreatedAt: now, PasswordHash: hash}, nil
}

const pgCols = `seq, username, role, password_hash, disabled, created_at, generation`

func pgScan(row pgx.Row) (User, error) {
	var u User
	var seq int64
	if err := row.Scan(&seq, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.Generation); err != nil {
		return User{}, err
	}
	u.ID, u.CreatedAt = userID(seq), u.CreatedAt.UTC()
	return u, nil
}

// Get returns the user named username (case-insensitively).
func (p *Postgres) Get(ctx context.Context, username string) (User, error) {
	if !ValidUsername(username) {
		return User{}, ErrInvalidUsername
	}
	u, err := pgScan(p.pool.QueryRow(ctx, `SELECT `+pgCols+` FROM tether_users WHERE lower(username) = lower($1)`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("users: get: %w", err)
	}
	return u, nil
}

// List returns every user, oldest first.
func (p *Postgres) List(ctx context.Context) ([]User, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgCols+` FROM tether_users ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := pgScan(rows)
		if err != nil {
			return nil, fmt.Errorf("users: list: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// update runs UPDATE tether_users SET set WHERE the name matches, with
// args as $1… and the name as the last parameter, and maps "no row" to
// ErrNotFound. set is a trusted SQL fragment, never input.
func (p *Postgres) update(ctx context.Context, what, set string, username string, args ...any) error {
	if !ValidUsername(username) {
		return ErrInvalidUsername
	}
	q := fmt.Sprintf(`UPDATE tether_users SET %s WHERE lower(username) = lower($%d)`, set, len(args)+1)
	tag, err := p.pool.Exec(ctx, q, append(args, username)...)
	if err != nil {
		return fmt.Errorf("users: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPassword replaces the user's password hash and raises its generation,
// in one statement.
func (p *Postgres) SetPassword(ctx context.Context, username, password string) error {
	if !ValidUsername(username) {
		return ErrInvalidUsername
	}
	hash, err := p.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return p.update(ctx, "set password", `password_hash = $1, `+raiseGeneration, username, hash)
}

// SetDisabled disables or re-enables the user; disabling raises its
// generation in the same statement.
func (p *Postgres) SetDisabled(ctx context.Context, username string, disabled bool) error {
	if disabled {
		return p.update(ctx, "set disabled", `disabled = true, `+raiseGeneration, username)
	}
	return p.update(ctx, "set disabled", `disabled = false`, username)
}

// RaiseGeneration raises the user's generation.
func (p *Postgres) RaiseGeneration(ctx context.Context, username string) error {
	return p.update(ctx, "raise generation", raiseGeneration, username)
}

// RaiseAllGenerations raises every user's generation in one statement.
func (p *Postgres) RaiseAllGenerations(ctx context.Context) (int, error) {
	tag, err := p.pool.Exec(ctx, `UPDATE tether_users SET `+raiseGeneration)
	if err != nil {
		return 0, fmt.Errorf("users: raise all generations: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// SetRole changes the user's role.
func (p *Postgres) SetRole(ctx context.Context, username, role string) error {
	if !ValidRole(role) {
		return ErrInvalidRole
	}
	return p.update(ctx, "set role", `role = $1`, username, role)
}

// Authenticate is SQLite.Authenticate's contract on PostgreSQL.
func (p *Postgres) Authenticate(ctx context.Context, username, password string) (User, error) {
	return authenticate(ctx, p.hasher, p.Get, p.replaceHash, username, password)
}

func (p *Postgres) replaceHash(ctx context.Context, id, oldHash, newHash string) error {
	var seq int64
	if _, err := fmt.Sscanf(id, "user-%d", &seq); err != nil {
		return fmt.Errorf("users: rehash: bad id %q", id)
	}
	tag, err := p.pool.Exec(ctx, `UPDATE tether_users SET password_hash = $1 WHERE seq = $2 AND password_hash = $3`, newHash, seq, oldHash)
	if err != nil {
		return fmt.Errorf("users: rehash: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return errHashChanged
	}
	return nil
}
