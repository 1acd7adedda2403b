// Package signatures holds the Rego signatures that ship with vigil and embeds
// them in the binary.
//
// Signatures are grouped by MITRE ATT&CK tactic, one folder per tactic, each
// signature beside its Rego tests (<name>_test.rego) and its fixture tests
// (<name>.fixtures.jsonl). Helpers shared by every signature live in lib/
// (package vigil.lib). README.md in this folder is the rule author's guide:
// the signature contract, the fixture format and a worked example.
//
// The Go side (parsing, validation, compilation, tests) is package rules;
// this package only exposes the files.
package signatures
