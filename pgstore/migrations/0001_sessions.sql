CREATE TABLE tether_sessions (
	key               TEXT COLLATE "C" PRIMARY KEY,       -- hex SHA-256 of the token, never the token
	user_id           TEXT COLLATE "C" NOT NULL DEFAULT '', -- '' for an anonymous session
	vals              JSON   NOT NULL,                    -- the session's values, one JSON object
	created_at        BIGINT NOT NULL,                    -- Unix milliseconds, like every time here
	authenticated_at  BIGINT NOT NULL,                    -- 0 when anonymous
	idle_deadline     BIGINT NOT NULL,                    -- never after absolute_deadline
	absolute_deadline BIGINT NOT NULL,
	-- The idle deadline in 5-minute steps, for the sweeper's index. It changes
	-- about once in 5 minutes of activity, not at each refresh of the idle
	-- deadline, so most updates change no indexed column and are HOT: no
	-- index entry written, the old version pruned within its page.
	expiry_slot       BIGINT GENERATED ALWAYS AS (idle_deadline / 300000) STORED
) WITH (fillfactor = 70); -- room in each page for those HOT versions
-- The per-user index: list and revoke a user's sessions without a scan.
CREATE INDEX tether_sessions_user ON tether_sessions (user_id) WHERE user_id <> '';
-- The sweeper deletes by the earlier deadline, which is always idle_deadline.
CREATE INDEX tether_sessions_expiry ON tether_sessions (expiry_slot);
