package rules

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestReadmeWorkedExample runs the worked example of signatures/README.md:
// every code block preceded by <!-- file: PATH --> is written to PATH, and
// the results the page shows must hold.
func TestReadmeWorkedExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "signatures", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := readmeFiles(t, readme)
	for _, want := range []string{"myrules/db_server_shell.rego", "myrules/db_server_shell_test.rego", "myrules/db_server_shell.fixtures.jsonl", "capture.jsonl"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("README has no block for %s", want)
		}
	}
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	myrules := filepath.Join(root, "myrules")

	// Step 2: validate is clean; the typos the page shows are reported where it says.
	if probs := Validate(myrules); probs != nil {
		t.Errorf("validate: %v", probs)
	}
	bad := files["myrules/db_server_shell.rego"]
	bad = strings.Replace(bad, `"sched_process_exec"]`, `"sched_proces_exec"]`, 1)
	bad = strings.Replace(bad, `"severity": "high"`, `"severty": "high"`, 1)
	bad += `leak if http.send({"method": "GET", "url": "http://198.51.100.7/"})` + "\n"
	badDir := filepath.Join(root, "bad")
	os.MkdirAll(badDir, 0o755)
	os.WriteFile(filepath.Join(badDir, "db_server_shell.rego"), []byte(bad), 0o644)
	var got []string
	for _, p := range Validate(badDir) {
		got = append(got, "bad/"+strings.TrimPrefix(p.String(), badDir+"/"))
	}
	shown := regexp.MustCompile(`(?m)^bad/db_server_shell\.rego:.*$`).FindAllString(string(readme), -1)
	if strings.Join(got, "\n") != strings.Join(shown, "\n") {
		t.Errorf("validate of the broken example:\n%s\nREADME shows:\n%s", strings.Join(got, "\n"), strings.Join(shown, "\n"))
	}

	// Step 5: five tests, all passing.
	rep, err := RunTests(context.Background(), TestOptions{Dirs: []string{myrules}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Passed != 5 || len(rep.Untested) != 0 {
		t.Errorf("tests: %+v", rep)
	}

	// Step 6: the capture yields one finding, for the shell under postgres.
	set, err := Load(LoadOptions{Dirs: []string{myrules}})
	if err != nil {
		t.Fatal(err)
	}
	var findings []map[string]any
	sc := bufio.NewScanner(strings.NewReader(files["capture.jsonl"]))
	for sc.Scan() {
		ev, err := event.Unmarshal(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range set.ForEvent(ev.Name) {
			fs, err := sig.Eval(context.Background(), Input(ev))
			if err != nil {
				t.Fatal(err)
			}
			findings = append(findings, fs...)
		}
	}
	if len(findings) != 1 || findings[0]["server"] != "postgres" || findings[0]["shell"] != "/usr/bin/dash" {
		t.Errorf("replay findings %v", findings)
	}
}

// readmeFiles returns the fenced blocks that follow <!-- file: PATH --> lines.
func readmeFiles(t *testing.T, readme []byte) map[string]string {
	t.Helper()
	marker := regexp.MustCompile(`^<!-- file: (\S+) -->$`)
	files := map[string]string{}
	lines := bytes.Split(readme, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		m := marker.FindSubmatch(lines[i])
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !bytes.HasPrefix(lines[i+1], []byte("```")) {
			t.Fatalf("README line %d: %s is not followed by a code block", i+1, m[1])
		}
		var body strings.Builder
		for i += 2; i < len(lines) && !bytes.HasPrefix(lines[i], []byte("```")); i++ {
			body.Write(lines[i])
			body.WriteByte('\n')
		}
		files[string(m[1])] = body.String()
	}
	return files
}

// TestReadmeListsEveryShippedSignature keeps signatures/README.md's list of
// shipped signatures complete: a row in the table and a paragraph each.
func TestReadmeListsEveryShippedSignature(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "signatures", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load(LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range set.Signatures() {
		if !bytes.Contains(readme, []byte("| `"+s.ID+"` |")) {
			t.Errorf("signatures/README.md has no table row for %s", s.ID)
		}
		if !bytes.Contains(readme, []byte("- **"+s.ID+"**: ")) {
			t.Errorf("signatures/README.md has no paragraph for %s", s.ID)
		}
	}
}
