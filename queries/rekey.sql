-- rosetta rotate-key walks each table by id in batches; FOR UPDATE keeps a concurrent
-- edit of the same row from being overwritten with the value read here.

-- name: SealedSourcePasswordsAfter :many
SELECT id, pg_password FROM sources WHERE id > @after ORDER BY id LIMIT @lim FOR UPDATE;

-- name: SealedPassphrasesAfter :many
SELECT id, snowflake_private_key_passphrase FROM destinations
WHERE id > @after AND snowflake_private_key_passphrase IS NOT NULL
ORDER BY id LIMIT @lim FOR UPDATE;
