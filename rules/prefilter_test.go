package rules

import (
	"context"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// A prefilter keeps events away from the Rego that would fire on them: only
// those whose fields match reach it; a test applies where its field exists.
func TestPrefilter(t *testing.T) {
	sig := loadOne(t, `package vigil.signatures.t

metadata := {
	"id": "t", "name": "t", "version": "1.0.0", "severity": "low", "description": "t",
	"events": ["security_file_open", "security_inode_rename"],
	"prefilter": {
		"args.pathname": {"prefix": ["/etc/"], "contains": ["/.ssh/"], "equals": ["/root/x"]},
		"args.new_path": {"suffix": [".conf"]},
		"process.comm": {"equals": ["cat", "mv"]},
	},
}

finding contains {"name": input.name} if true
`)
	open := func(path, comm string) *event.Event {
		return &event.Event{Name: "security_file_open", Process: event.Process{Comm: comm}, Args: map[string]any{"pathname": path, "flags": uint64(0)}}
	}
	rename := func(newPath string) *event.Event {
		return &event.Event{Name: "security_inode_rename", Process: event.Process{Comm: "mv"}, Args: map[string]any{"old_path": "/tmp/a", "new_path": newPath}}
	}
	for _, tc := range []struct {
		ev   *event.Event
		want bool
	}{
		{open("/etc/shadow", "cat"), true},
		{open("/home/a/.ssh/id_rsa", "cat"), true},
		{open("/root/x", "cat"), true},
		{open("/root/xy", "cat"), false},
		{open("/usr/lib/libc.so.6", "cat"), false},
		{open("/etc/shadow", "python3"), false},    // every test must pass
		{rename("/etc/ld.so.conf.d/x.conf"), true}, // no pathname: that test does not apply
		{rename("/etc/ld.so.conf.d/x"), false},
		{&event.Event{Name: "security_file_open", Process: event.Process{Comm: "cat"}, Args: map[string]any{"pathname": uint64(7)}}, false}, // not a string
	} {
		fs, err := sig.Eval(context.Background(), Input(tc.ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs) > 0; got != tc.want {
			t.Errorf("%s %v comm %s: finding %v, want %v", tc.ev.Name, tc.ev.Args, tc.ev.Process.Comm, got, tc.want)
		}
	}
	if len(sig.Prefilter) != 3 || sig.Prefilter["args.new_path"].Suffix[0] != ".conf" {
		t.Errorf("metadata prefilter %+v", sig.Prefilter)
	}
}

// An integer argument is tested with a bit mask: open flags asking for
// write access, creation or truncation.
func TestPrefilterBits(t *testing.T) {
	sig := loadOne(t, `package vigil.signatures.t

metadata := {
	"id": "t", "name": "t", "version": "1.0.0", "severity": "low", "description": "t",
	"events": ["security_file_open"],
	"prefilter": {"args.flags": {"any_bits": 579}, "args.pathname": {"prefix": ["/usr/"]}},
}

finding contains {"name": input.name} if true
`)
	open := func(path string, flags any) *event.Event {
		return &event.Event{Name: "security_file_open", Args: map[string]any{"pathname": path, "flags": flags}}
	}
	for _, tc := range []struct {
		ev   *event.Event
		want bool
	}{
		{open("/usr/bin/ls", uint64(0o100001)), true}, // O_LARGEFILE | O_WRONLY
		{open("/usr/bin/ls", uint64(0o100002)), true}, // O_RDWR
		{open("/usr/bin/ls", uint64(0o1000)), true},   // O_TRUNC
		{open("/usr/bin/ls", uint64(0o100000)), false},
		{open("/etc/passwd", uint64(1)), false},
		{open("/usr/bin/ls", int64(-1)), true},                                                            // every bit of a negative value
		{open("/usr/bin/ls", "1"), false},                                                                 // not a number
		{&event.Event{Name: "security_file_open", Args: map[string]any{"pathname": "/usr/bin/ls"}}, true}, // no flags: the test does not apply
	} {
		fs, err := sig.Eval(context.Background(), Input(tc.ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs) > 0; got != tc.want {
			t.Errorf("%v: finding %v, want %v", tc.ev.Args, got, tc.want)
		}
	}
	if sig.Prefilter["args.flags"].AnyBits != 579 {
		t.Errorf("metadata prefilter %+v", sig.Prefilter)
	}
}

// A key "<event>:<field>" tests that event only: renames carry flags of
// their own, which an open's mask must not judge.
func TestPrefilterForOneEvent(t *testing.T) {
	sig := loadOne(t, `package vigil.signatures.t

metadata := {
	"id": "t", "name": "t", "version": "1.0.0", "severity": "low", "description": "t",
	"events": ["security_file_open", "security_inode_rename"],
	"prefilter": {"security_file_open:args.flags": {"any_bits": 579}},
}

finding contains {"name": input.name} if true
`)
	for _, tc := range []struct {
		ev   *event.Event
		want bool
	}{
		{&event.Event{Name: "security_file_open", Args: map[string]any{"pathname": "/etc/x", "flags": uint64(1)}}, true},
		{&event.Event{Name: "security_file_open", Args: map[string]any{"pathname": "/etc/x", "flags": uint64(0)}}, false},
		{&event.Event{Name: "security_inode_rename", Args: map[string]any{"old_path": "/a", "new_path": "/etc/x", "flags": uint64(0)}}, true},
	} {
		fs, err := sig.Eval(context.Background(), Input(tc.ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs) > 0; got != tc.want {
			t.Errorf("%s %v: finding %v, want %v", tc.ev.Name, tc.ev.Args, got, tc.want)
		}
	}
}
