package event

import (
	"reflect"
	"testing"
)

// The typed views read what the decoder and JSON give (int64, uint64, ...)
// in the table's own types, and write values JSON round-trips unchanged.
func TestArgsViews(t *testing.T) {
	ev, err := Unmarshal([]byte(`{"name":"sched_process_exec","process":{},"args":{"pathname":"/usr/bin/curl","argv":["curl","-s"],"old_pid":4242,"memfd":true,"inode":18446744073709551615}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := SchedProcessExecArgs(ev.Args)
	if a.Pathname() != "/usr/bin/curl" || !reflect.DeepEqual(a.Argv(), []string{"curl", "-s"}) || a.OldPid() != 4242 || !a.Memfd() || a.Inode() != 1<<64-1 {
		t.Fatalf("views read %q %v %d %v %d", a.Pathname(), a.Argv(), a.OldPid(), a.Memfd(), a.Inode())
	}
	if _, ok := a.LookupEnv(); ok {
		t.Error("LookupEnv found an absent argument")
	}
	if a.Interpreter() != "" || a.Deleted() {
		t.Error("absent arguments do not read as zero")
	}

	b := ExecveatArgs{}
	b.SetDirfd(-100)
	b.SetFlags(0x1000)
	b.SetPathname("x")
	out := &Event{Name: "execveat", Args: b}
	data, err := out.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Args, map[string]any(b)) {
		t.Fatalf("set then JSON round trip: %#v, want %#v", back.Args, b)
	}
	if got := ExecveatArgs(back.Args).Dirfd(); got != -100 {
		t.Fatalf("dirfd %d", got)
	}
	b.DeletePathname()
	if _, ok := b.LookupPathname(); ok {
		t.Fatal("DeletePathname left it")
	}
}
