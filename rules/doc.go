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
// The signature contract itself is documented for rule authors in
// signatures/README.md.
package rules
