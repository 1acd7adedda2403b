package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testTable(t *testing.T) (string, *table) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := loadTable(filepath.Join(root, "event"))
	if err != nil {
		t.Fatal(err)
	}
	return root, tb
}

// TestGeneratedFilesAreCurrent fails when the event table changed and the
// generated header or Go views were not regenerated (go generate ./event/).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, tb := testTable(t)
	outs, err := render(tb, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		have, err := os.ReadFile(filepath.Join(root, o.path))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./event/)", o.path, err)
		}
		if !bytes.Equal(have, o.data) {
			t.Errorf("%s is stale: it differs from what the event table gives; run go generate ./event/ (then make generate for the BPF objects)", o.path)
		}
	}
}

// TestNoLiteralArgumentIndices fails when a BPF source passes a number as
// an argument index: go run ./internal/genevents -rewrite-c names them.
func TestNoLiteralArgumentIndices(t *testing.T) {
	root, tb := testTable(t)
	files, err := bpfSources(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, n, err := rewriteC(tb, rel(root, f), src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if n > 0 {
			t.Errorf("%s: %d save_*() calls with a literal argument index; run go run ./internal/genevents -rewrite-c", rel(root, f), n)
		}
	}
}

// The rewriter names indices by the event in scope, checks types, and
// refuses what it cannot attribute.
func TestRewriteC(t *testing.T) {
	_, tb := testTable(t)
	cases := []struct {
		name, src, want, err string
	}{
		{
			name: "event_init names the event",
			src:  "int f(void *ctx)\n{\n\tstruct event e;\n\tif (!event_init(&e, ctx, EVENT_EXECVE))\n\t\treturn 0;\n\tsave_str(&e, 0, p, 1);\n\tsave_str_arr(&e,  1, a);\n}\n",
			want: "int f(void *ctx)\n{\n\tstruct event e;\n\tif (!event_init(&e, ctx, EVENT_EXECVE))\n\t\treturn 0;\n\tsave_str(&e, ARG_EXECVE_PATHNAME, p, 1);\n\tsave_str_arr(&e,  ARG_EXECVE_ARGV, a);\n}\n",
		},
		{
			name: "a condition does not name the record's event",
			src:  "int f(void *ctx, __u32 id)\n{\n\tif (id == EVENT_EXECVE)\n\t\tsave_str(&e, 0, p, 1);\n}\n",
			err:  "no event in scope",
		},
		{
			name: "annotation, and save_inode's two indices",
			src:  "/* args: EVENT_SECURITY_BPRM_CHECK */\nstatic void g(struct event *e)\n{\n\tsave_inode(e, 2, 3, ino); /* save_u32(e, 9, x) */\n}\n",
			want: "/* args: EVENT_SECURITY_BPRM_CHECK */\nstatic void g(struct event *e)\n{\n\tsave_inode(e, ARG_SECURITY_BPRM_CHECK_DEV, ARG_SECURITY_BPRM_CHECK_INODE, ino); /* save_u32(e, 9, x) */\n}\n",
		},
		{
			name: "wrong type",
			src:  "int f(void *ctx)\n{\n\tevent_init(&e, ctx, EVENT_EXECVE);\n\tsave_u32(&e, 0, x);\n}\n",
			err:  "save_u32 writes a uint32, but argument 0 of execve (pathname) is a string",
		},
		{
			name: "no such argument",
			src:  "int f(void *ctx)\n{\n\tevent_init(&e, ctx, EVENT_EXECVE);\n\tsave_str(&e, 7, x, 0);\n}\n",
			err:  "event execve has no argument 7",
		},
		{
			name: "events sharing code must agree",
			src:  "/* args: EVENT_VFS_WRITE, EVENT_VFS_WRITEV */\nint f(void *ctx)\n{\n\tsave_u64(&e, 2, n);\n}\n",
			err:  "argument 2 is count uint64 in vfs_write but vlen uint64 in vfs_writev",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := rewriteC(tb, "x.c", []byte(c.src))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				if !strings.Contains(err.Error(), "x.c:") {
					t.Errorf("error %q does not name the place", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Errorf("got\n%s\nwant\n%s", out, c.want)
			}
		})
	}
}

// The probe declarations read as the sensor's table, in the order written,
// and mistakes name their file and line.
func TestReadProbes(t *testing.T) {
	_, tb := testTable(t)
	write := func(t *testing.T, files map[string]string) string {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "bpf"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, src := range files {
			if err := os.WriteFile(filepath.Join(root, "bpf", name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	root := write(t, map[string]string{"a.bpf.c": `/* PROBE(EXECVE, "in a comment", nope); */
SEC("tracepoint/syscalls/sys_exit")
/* args: EVENT_SECURITY_INODE_UNLINK */
int sys_exit_unlink(struct syscall_exit_ctx *ctx)
{
	return 0;
}
SYSCALLS(sys_exit_unlink, unlink, unlinkat, rmdir);
HOOK_PROBES(SECURITY_INODE_UNLINK, security_path_unlink + security_path_rmdir, sys_enter_save(unlink));
FALLBACK(SECURITY_INODE_UNLINK, "syscalls+tp_btf/ext4_unlink_enter", sys_exit_unlink, tp_btf_ext4_unlink_enter);
PROBE(MODULE_IMAGE_CAPTURED, "sensor (reassembled)");
PROBE(SECURITY_INODE_RENAME, "saved like unlink", sys_enter_save(sys_exit_unlink, rename));
`, "b.bpf.c": `SEC("tracepoint/syscalls/sys_enter")
int sys_enter_save(struct syscall_enter_ctx *ctx)
{
	return 0;
}
PROBE(SECURITY_INODE_LINK, "syscalls (in two directions)", sys_enter_save(link), sys_exit_unlink(link));
PROBE(SECURITY_INODE_SYMLINK, "syscalls", sys_enter_save(symlink), sys_exit_unlink(unlink));
`})
	d, err := readProbes(tb, root)
	if err != nil {
		t.Fatal(err)
	}
	got := d.byEvent["EVENT_SECURITY_INODE_UNLINK"]
	want := []cProbe{
		{name: "fentry/security_path_unlink+security_path_rmdir", programs: []cProgram{{name: "fentry_security_path_unlink"}, {name: "fentry_security_path_rmdir"}, {name: "sys_enter_save", syscalls: []string{"unlink"}}}},
		{name: "kprobe/security_path_unlink+security_path_rmdir", programs: []cProgram{{name: "kprobe_security_path_unlink"}, {name: "kprobe_security_path_rmdir"}, {name: "sys_enter_save", syscalls: []string{"unlink"}}}},
		{name: "tracepoint/syscalls/sys_exit_{unlink,unlinkat,rmdir}+tp_btf/ext4_unlink_enter", fallback: true, programs: []cProgram{{name: "sys_exit_unlink"}, {name: "tp_btf_ext4_unlink_enter"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for ev, want := range map[string]string{
		"EVENT_SECURITY_INODE_LINK":    "tracepoint/syscalls/sys_{enter,exit}_link (in two directions)",
		"EVENT_SECURITY_INODE_SYMLINK": "tracepoint/syscalls/sys_enter_symlink+sys_exit_unlink",
		"EVENT_SECURITY_INODE_RENAME":  "saved like unlink",
	} {
		if pb := d.byEvent[ev]; len(pb) != 1 || pb[0].name != want {
			t.Errorf("%s: probes %+v, want one named %q", ev, pb, want)
		}
	}
	if len(d.byEvent["EVENT_EXECVE"]) != 0 {
		t.Errorf("a declaration in a comment was read: %+v", d.byEvent["EVENT_EXECVE"])
	}
	if sc := d.syscalls["sys_exit_unlink"]; !reflect.DeepEqual(sc, []string{"unlink", "unlinkat", "rmdir"}) {
		t.Errorf("SYSCALLS of sys_exit_unlink: %v", sc)
	}
	if pb := d.byEvent["EVENT_MODULE_IMAGE_CAPTURED"]; len(pb) != 1 || len(pb[0].programs) != 0 {
		t.Errorf("a probe with no programs: %+v", pb)
	}
	src, err := renderProbes(tb, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `{Name: "sys_exit_unlink", Syscalls: []string{"unlink", "unlinkat", "rmdir"}}`) {
		t.Errorf("the bare program did not get its SYSCALLS in the table:\n%s", src)
	}
	if !strings.Contains(string(src), `{Name: "sys_enter_save", Syscalls: []string{"unlink", "unlinkat", "rmdir", "rename"}}`) {
		t.Errorf("a program named in a syscall list did not stand for its SYSCALLS:\n%s", src)
	}

	for _, c := range []struct {
		name, err string
		files     map[string]string
	}{
		{"unknown event", "a.bpf.c:2: PROBE of NO_SUCH_EVENT: no such event", map[string]string{"a.bpf.c": "\nPROBE(NO_SUCH_EVENT, \"x\", p);\n"}},
		{"name not a string", "a.bpf.c:1: FALLBACK: the probe's name must be a string literal", map[string]string{"a.bpf.c": "FALLBACK(EXECVE, sys_enter_execve);\n"}},
		{"one event in two files", "keep an event's probes in one file", map[string]string{"a.bpf.c": "PROBE(EXECVE, \"x\", p);\n", "b.bpf.c": "PROBE(EXECVE, \"y\", q);\n"}},
		{"syscalls twice", "bpf/a.bpf.c:2: SYSCALLS of p already declared at bpf/a.bpf.c:1", map[string]string{"a.bpf.c": "SYSCALLS(p, open);\nSYSCALLS(p, creat);\n"}},
		{"raw sys_exit", `a.bpf.c:4: probe name "raw_tracepoint/sys_exit (open)": syscall handler p hangs on its syscalls' trace events`, map[string]string{"a.bpf.c": "SEC(\"tracepoint/syscalls/sys_exit\")\nint p(struct syscall_exit_ctx *ctx)\n{ return 0; }\nFALLBACK(EXECVE, \"raw_tracepoint/sys_exit (open)\", p(open));\n"}},
		{"syscalls without a handler", `a.bpf.c:1: probe "syscalls" says syscalls, but none of its programs is a syscall handler`, map[string]string{"a.bpf.c": "PROBE(EXECVE, \"syscalls\", p(open));\n"}},
		{"unclosed", "a.bpf.c:1: PROBE( without its closing parenthesis", map[string]string{"a.bpf.c": "PROBE(EXECVE, \"x\", p(open;\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readProbes(tb, write(t, c.files))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}
