// Package rules is the Go side of vigil's Rego signatures: it gathers
// signature modules from the embedded set (package signatures) and from
// users' folders, checks them against the signature contract (metadata,
// selected events, allowed built-ins and data references), compiles them
// once with OPA under restricted capabilities, prepares one query per
// signature, and runs their tests (Rego test_ rules and fixture files).
//
// A Set is immutable after Load and safe for concurrent use: the engine
// evaluates many events at once through the same prepared queries, and
// swaps a whole new Set in on reload. Every problem found while loading is
// reported with its place as file:line:column.
//
// Load also derives, from each signature's compiled finding rule, a
// necessary condition on the input (derive.go; Signature.Derived): field
// tests an event must meet for the signature to be able to fire. Matcher
// tests the conditions of every signature of a set together, on an event's
// JSON bytes or on its Rego input, so the engine runs Rego only where it
// can matter. On JSON it reads only the keys the conditions of the event's
// kind read (jsonplan.go: everything else is skipped eight bytes at a
// time, and a process object met in the last few events is recognised by
// its bytes instead of being walked again). Set.Interest hands the same
// conditions to the sensor. The
// analysis is sound by construction (what it cannot express constrains
// nothing), and the engine's differential tests and fuzz target hold it
// to that against Rego itself.
//
// The signature contract itself is documented for rule authors in
// signatures/README.md.
package rules
