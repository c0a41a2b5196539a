package db

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
)

// Translate turns a storage error into the apperr code every face maps to a status:
// no row → not_found ("<kind> not found"), a serialization failure or deadlock →
// conflict (the client may retry), an unreachable database → unavailable, anything else
// → internal. Errors that already carry a code pass through. Services add their own
// meanings first (a unique violation is a duplicate name to the catalog, a taken email
// to users) and hand the rest here, so the mapping lives in one place.
func Translate(err error, kind string) error {
	if err == nil {
		return nil
	}
	if apperr.As(err) != nil {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &apperr.Error{Code: apperr.NotFound, Message: kind + " not found", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
		return &apperr.Error{Code: apperr.Conflict, Message: "the " + kind + " was changed concurrently; try again", Err: err}
	}
	if IsUnavailable(err) {
		return &apperr.Error{Code: apperr.Unavailable, Message: "the database is unavailable; try again shortly", Err: err}
	}
	return &apperr.Error{Code: apperr.Internal, Message: "internal error", Err: err}
}

// IsUniqueViolation reports a unique-constraint violation (SQLSTATE 23505).
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// IsUnavailable reports errors that mean "the database cannot be reached right now"
// rather than "this request is wrong".
func IsUnavailable(err error) bool {
	if errors.Is(err, ErrPoolTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// class 08 connection exceptions; 57P01-03 admin/crash shutdown, cannot connect now
		if strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" {
			return true
		}
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF")
}
