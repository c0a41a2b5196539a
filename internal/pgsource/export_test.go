package pgsource

import "github.com/jackc/pgx/v5"

// LoginMechanism is the SASL mechanism conn's login used ("SCRAM-SHA-256" or
// "SCRAM-SHA-256-PLUS"), "" when Rosetta's own exchange did not run or used no SASL.
func LoginMechanism(conn *pgx.Conn) string {
	if a, ok := conn.PgConn().Conn().(*authenticated); ok {
		return a.mechanism
	}
	return ""
}
