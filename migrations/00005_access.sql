-- +goose Up
-- session_epoch counts the events that must end a user's console sessions (a password
-- reset or change, disabling). Sign-in stores the epoch in the session; a session whose
-- epoch is not the user's current one is over. Sessions are opaque scs blobs, so this is
-- how "sign this user out everywhere" is done without reading every session; the check
-- rides on the user row the session middleware already reads on every request.
ALTER TABLE users ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_epoch;
