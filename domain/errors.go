package domain

import (
	"errors"
	"fmt"
)

// Error codes of refusals. The command line turns every one of them into exit
// status 1 with the message on stderr; callers branch on the code, people read
// the message.
const (
	// EINVALID: the input is malformed (an ID that is not a slug, text with
	// control bytes, an empty title).
	EINVALID = "invalid"
	// ENOTFOUND: the thing named does not exist (a clause, a proposal, a
	// party, a round).
	ENOTFOUND = "not_found"
	// ECONFLICT: the request is well formed but the negotiation's state or
	// rules refuse it (a round already open, a proposal already adopted).
	ECONFLICT = "conflict"
	// EFORBIDDEN: the acting party may not do this (an observer accepting,
	// a party withdrawing another's proposal).
	EFORBIDDEN = "forbidden"
	// ESTALE: the proposal was drafted against a revision of its clause that
	// another adopted proposal has replaced.
	ESTALE = "stale"
)

// Error is a refusal by the negotiation's rules. Its message is written for
// the drafter who tried the act: it says what is wrong and, where there is
// one, what to do instead.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or "" when
// err is nil or carries no code.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
