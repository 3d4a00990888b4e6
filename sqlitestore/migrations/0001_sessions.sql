CREATE TABLE tether_sessions (
	key               TEXT    PRIMARY KEY,         -- hex SHA-256 of the token, never the token
	user_id           TEXT    NOT NULL DEFAULT '', -- '' for an anonymous session
	vals              TEXT    NOT NULL,            -- JSON object of the session's values
	created_at        INTEGER NOT NULL,            -- Unix milliseconds, like every time here
	authenticated_at  INTEGER NOT NULL,            -- 0 when anonymous
	idle_deadline     INTEGER NOT NULL,            -- never after absolute_deadline
	absolute_deadline INTEGER NOT NULL
) WITHOUT ROWID;
-- The per-user index: list and revoke a user's sessions without a scan.
CREATE INDEX tether_sessions_user ON tether_sessions (user_id) WHERE user_id <> '';
-- The sweeper deletes by the earlier deadline, which is always idle_deadline.
CREATE INDEX tether_sessions_expiry ON tether_sessions (idle_deadline);
