package signatures

import (
	"embed"
	"io/fs"
)

// Signatures live one folder deep (a tactic folder or lib/); a test in
// package rules fails when a .rego file sits anywhere the patterns miss.
//
//go:embed */*.rego */*.fixtures.jsonl
var files embed.FS

// FS returns the shipped signatures, their tests and fixtures, and the helper
// library, with paths relative to this folder (e.g. "lib/lib.rego").
func FS() fs.FS {
	return files
}
