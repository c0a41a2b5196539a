package pgsource

import "github.com/jackc/pgx/v5"

// LoginMethod is how Rosetta's own login of conn went ("SCRAM-SHA-256",
// "SCRAM-SHA-256-PLUS", "md5", "password", "trust"); "" when it did not run (pgx logged in).
func LoginMethod(conn *pgx.Conn) string {
	if a, ok := conn.PgConn().Conn().(*authenticated); ok {
		return a.method
	}
	return ""
}
