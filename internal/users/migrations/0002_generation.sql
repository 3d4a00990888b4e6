-- The credential generation (issue 11 row 3): raised in the same UPDATE as a
-- password change or a disable, and by a revoke-all. A session remembers the
-- generation its login read and is refused once they differ. Existing rows
-- and the sessions logged in before this migration (which hold none, read
-- as 0) start equal.
ALTER TABLE tether_users ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
