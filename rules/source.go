package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/signatures"
)

type sourceKind int

const (
	kindModule  sourceKind = iota // a signature or library module
	kindTest                      // <name>_test.rego
	kindFixture                   // <name>.fixtures.jsonl
)

const (
	regoExt       = ".rego"
	testSuffix    = "_test.rego"
	fixtureSuffix = ".fixtures.jsonl"
	// builtinRoot prefixes the paths of embedded files, so that errors in
	// shipped signatures point at their place in vigil's repository.
	builtinRoot = "signatures"
	libDir      = "lib"
)

// source is one rule file's contents.
type source struct {
	path    string // as shown to users
	data    []byte
	kind    sourceKind
	builtin bool
}

func classify(name string) (sourceKind, bool) {
	switch {
	case strings.HasSuffix(name, testSuffix):
		return kindTest, true
	case strings.HasSuffix(name, regoExt):
		return kindModule, true
	case strings.HasSuffix(name, fixtureSuffix):
		return kindFixture, true
	}
	return 0, false
}

// gather reads the embedded files opts asks for (the library always) and
// every rule file under opts.Dirs.
func gather(opts LoadOptions) ([]*source, []Problem) {
	var (
		srcs     []*source
		problems []Problem
	)
	builtin, err := builtinSources(opts.Builtin)
	if err != nil {
		problems = append(problems, Problem{File: builtinRoot, Msg: err.Error()})
	}
	srcs = append(srcs, builtin...)

	seen := map[string]bool{}
	var found []*source
	for _, dir := range opts.Dirs {
		more, err := dirSources(dir, seen)
		if err != nil {
			problems = append(problems, Problem{File: dir, Msg: err.Error()})
			continue
		}
		found = append(found, more...)
	}
	return append(withoutOverridden(srcs, found), found...), problems
}

// withoutOverridden drops the embedded library files that a folder holds a
// file of the same name for, in a lib folder of its own (lib/lib.rego
// takes the place of signatures/lib/lib.rego): a copy of the shipped
// signatures, library edits included, then loads on its own.
func withoutOverridden(builtin, found []*source) []*source {
	mine := map[string]bool{}
	for _, s := range found {
		if s.kind == kindModule && filepath.Base(filepath.Dir(s.path)) == libDir {
			mine[filepath.Base(s.path)] = true
		}
	}
	if len(mine) == 0 {
		return builtin
	}
	var kept []*source
	for _, s := range builtin {
		if s.kind == kindModule && path.Dir(s.path) == path.Join(builtinRoot, libDir) && mine[path.Base(s.path)] {
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// builtinSources returns the embedded library, and with all the embedded
// signatures with their tests and fixtures too.
func builtinSources(all bool) ([]*source, error) {
	var srcs []*source
	err := fs.WalkDir(signatures.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		kind, ok := classify(p)
		if !ok {
			return nil
		}
		isLib := strings.HasPrefix(p, libDir+"/")
		if !all && !(isLib && kind == kindModule) {
			return nil
		}
		data, err := fs.ReadFile(signatures.FS(), p)
		if err != nil {
			return err
		}
		srcs = append(srcs, &source{path: path.Join(builtinRoot, p), data: data, kind: kind, builtin: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded signatures: %w", err)
	}
	return srcs, nil
}

// dirSources reads the rule files under dir (recursively, skipping hidden
// folders), or dir itself when it is a file. seen holds absolute paths
// already read, so a file named twice is read once.
func dirSources(dir string, seen map[string]bool) ([]*source, error) {
	info, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("no such file or directory")
		}
		return nil, err
	}
	var files []string
	if !info.IsDir() {
		if _, ok := classify(dir); !ok {
			return nil, fmt.Errorf("not a rule file: want *%s or *%s", regoExt, fixtureSuffix)
		}
		files = []string{dir}
	} else {
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if _, ok := classify(p); ok {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading rule folder: %w", err)
		}
	}
	if len(files) == 0 {
		// A mistyped folder would otherwise load nothing, silently.
		return nil, fmt.Errorf("no rule files (*%s) found", regoExt)
	}
	sort.Strings(files)
	var srcs []*source
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err == nil {
			if seen[abs] {
				continue
			}
			seen[abs] = true
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		kind, _ := classify(f)
		srcs = append(srcs, &source{path: f, data: data, kind: kind})
	}
	return srcs, nil
}
