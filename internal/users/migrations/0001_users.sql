CREATE TABLE tether_users (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
	password_hash TEXT    NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
);
-- User IDs are "user-" || seq; the first user is user-1001.
INSERT INTO sqlite_sequence (name, seq) VALUES ('tether_users', 1000);
