// Package projections turns a negotiation's events into what people read: the
// draft as of any moment, the compare document between two moments, the log,
// the round index, the provenance of each word, the audit. Every view is a
// fold over the events; nothing here is stored as truth, and nothing here
// appends to the log (the write path is cmd/treaty/internal/write).
//
// Reading: a Reader folds one negotiation's events into a Moment (the
// negotiation as it stood at a Point), starting from a checkpoint where it
// has one; a Live keeps the head in memory for a long-running process.
// Every fold checks each event it folds as Verify does (the hash chain, what
// is recorded about the event, its signature, the rules), so no view is
// built from a log that does not hold together: a break is a *Problem.
// Signatures are checked by ZIP-215's rules (domain.CheckSignature), a few
// hundred at once on every core, and a batch that fails one by one, so
// that the first bad event is the one named.
// Views (Draft, Diff, ProposalDetail, Blame, …) are built from moments and
// hold everything their renderers print; renderers only format.
//
// Words, one per concept:
//   - head: the log's newest position (REF head); Reader.Head reads the
//     negotiation there.
//   - hash: an event's hash in the chain (domain.Seal); a Point's Hash is
//     that of its last event.
//   - checkpoint: a state saved beside the log, so that a fold starts
//     there (package projections/internal/checkpoint); a cache, never the
//     truth: deleting or editing one changes no answer.
//   - moment: the negotiation at a point; point: a resolved REF (an event
//     number, its round, time and hash).
//   - redline: the word-level comparison of two texts (package redline).
package projections
