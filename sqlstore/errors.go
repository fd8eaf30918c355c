package sqlstore

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// isUniqueViolation reports whether err is a database refusing a write for
// a UNIQUE or PRIMARY KEY constraint: SQLSTATE 23505 in PostgreSQL, the
// extended codes SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY in SQLite. The
// SQLSTATE interface and SQLite's message cover drivers other than the two
// this package opens with.
func isUniqueViolation(err error) bool {
	return sqlState(err) == "23505" || sqliteCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) ||
		sqliteMessage(err, "UNIQUE constraint failed", "PRIMARY KEY constraint failed")
}

// isForeignKeyViolation is isUniqueViolation for foreign keys (SQLSTATE
// 23503, SQLITE_CONSTRAINT_FOREIGNKEY).
func isForeignKeyViolation(err error) bool {
	return sqlState(err) == "23503" || sqliteCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) ||
		sqliteMessage(err, "FOREIGN KEY constraint failed")
}

func sqlState(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code
	}
	if se, ok := errors.AsType[interface {
		error
		SQLState() string
	}](err); ok {
		return se.SQLState()
	}
	return ""
}

func sqliteCode(err error, codes ...int) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

func sqliteMessage(err error, msgs ...string) bool {
	for _, m := range msgs {
		if strings.Contains(err.Error(), m) {
			return true
		}
	}
	return false
}
