package domain

import (
	"errors"
	"fmt"
)

// Error codes of refusals. Callers branch on the code; people read the
// message. The command line turns every one into exit status 1.
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

// Reasons refine a code where the caller may want to add advice of its own:
// the domain says what is wrong in the negotiation's terms, and a front end
// (the command line) says which of its commands would help.
const (
	// ReasonNotOpened: the negotiation has no TreatyOpened yet.
	ReasonNotOpened = "not-opened"
	// ReasonNoActor: the act names no acting participant.
	ReasonNoActor = "no-actor"
	// ReasonRoundOpen: a round is open where none may be.
	ReasonRoundOpen = "round-open"
	// ReasonNoRound: no round is open where one must be.
	ReasonNoRound = "no-round"
	// ReasonEmptyText: a proposal without text that is not a deletion.
	ReasonEmptyText = "empty-text"
	// ReasonNoProposal: no proposal has the ID or prefix given.
	ReasonNoProposal = "no-proposal"
	// ReasonStale: the proposal is stale (code ESTALE); Error.Clause names
	// its clause.
	ReasonStale = "stale"
	// ReasonNoKey: the act needs a key of the actor's and it has none.
	ReasonNoKey = "no-key"
	// ReasonConcluded: the text is concluded; it must be reopened first.
	ReasonConcluded = "concluded"
	// ReasonNotConcluded: the act follows the conclusion of the text.
	ReasonNotConcluded = "not-concluded"
)

// Error is a refusal by the negotiation's rules. Its message says, in the
// negotiation's terms, what is wrong; it never names a command or a flag.
type Error struct {
	Code    string
	Message string
	// Reason, when set, is one of the Reason constants.
	Reason string
	// Clause is the clause the refusal is about, when there is one.
	Clause string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// because sets the reason (and the clause it concerns, if any).
func (e *Error) because(reason, clause string) *Error {
	e.Reason, e.Clause = reason, clause
	return e
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

// ErrorReason returns the reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
