package sensor

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSensorSeesCredentialArguments runs a thread through every credential
// syscall with values nothing else uses and checks each argument of the
// syscall events and of the commit_creds that follows each call: the ids
// the kernel really set (setregid also moves the saved gid, setuid as root
// all four uids) and the capability sets before and after.
func TestSensorSeesCredentialArguments(t *testing.T) {
	ls := startSensor(t, "setuid", "setreuid", "setresuid", "setfsuid", "setgid", "setregid",
		"setresgid", "setfsgid", "capset", "commit_creds")
	var r struct {
		Pid               uint32 `json:"pid"`
		Tid               int    `json:"tid"`
		StartEffective    uint64 `json:"start_effective"`
		CapsetEffective   uint64 `json:"capset_effective"`
		CapsetInheritable uint64 `json:"capset_inheritable"`
		StartPermitted    uint64 `json:"start_permitted"`
	}
	runTrigger(t, exec.Command(filepath.Join(triggers(t), "credops")), &r)
	if r.Pid == 0 || r.CapsetEffective == 0 {
		t.Fatalf("credops did not run through: %+v", r)
	}

	// the syscalls, as asked
	ls.waitArgs(t, "capset", r.Pid, map[string]any{"pid": r.Tid, "effective": r.CapsetEffective,
		"permitted": r.StartPermitted, "inheritable": r.CapsetInheritable})
	ls.waitArgs(t, "setresgid", r.Pid, map[string]any{"rgid": 4001, "egid": 4002, "sgid": 4003})
	ls.waitArgs(t, "setregid", r.Pid, map[string]any{"rgid": 4004, "egid": 4005})
	ls.waitArgs(t, "setgid", r.Pid, map[string]any{"gid": 4006})
	ls.waitArgs(t, "setfsgid", r.Pid, map[string]any{"fsgid": 4007})
	ls.waitArgs(t, "setresuid", r.Pid, map[string]any{"ruid": 5001, "euid": 0, "suid": 5003})
	ls.waitArgs(t, "setreuid", r.Pid, map[string]any{"ruid": 5004, "euid": 0})
	ls.waitArgs(t, "setfsuid", r.Pid, map[string]any{"fsuid": 5005})
	ls.waitArgs(t, "setuid", r.Pid, map[string]any{"uid": 5006})

	// what each call changed, old and new
	fallback := onFallback(t, ls, "commit_creds")
	steps := []struct {
		syscall string
		want    map[string]any
	}{
		{"capset", map[string]any{"old_uid": 0, "new_uid": 0,
			"old_cap_effective": r.StartEffective, "new_cap_effective": r.CapsetEffective}},
		{"setresgid", map[string]any{"old_gid": 0, "old_egid": 0, "old_sgid": 0, "old_fsgid": 0,
			"new_gid": 4001, "new_egid": 4002, "new_sgid": 4003, "new_fsgid": 4002}},
		// a new real gid moves the saved one to the new effective one
		{"setregid", map[string]any{"old_gid": 4001, "old_egid": 4002, "old_sgid": 4003, "old_fsgid": 4002,
			"new_gid": 4004, "new_egid": 4005, "new_sgid": 4005, "new_fsgid": 4005}},
		{"setgid", map[string]any{"new_gid": 4006, "new_egid": 4006, "new_sgid": 4006, "new_fsgid": 4006}},
		{"setfsgid", map[string]any{"old_fsgid": 4006, "new_fsgid": 4007, "new_gid": 4006}},
		{"setresuid", map[string]any{"old_uid": 0, "old_suid": 0, "old_fsuid": 0,
			"new_uid": 5001, "new_euid": 0, "new_suid": 5003, "new_fsuid": 0}},
		{"setreuid", map[string]any{"old_uid": 5001, "old_suid": 5003,
			"new_uid": 5004, "new_euid": 0, "new_suid": 0}},
		{"setfsuid", map[string]any{"old_fsuid": 0, "new_fsuid": 5005, "new_uid": 5004}},
		// root's setuid sets every uid and, leaving no uid 0, every capability
		{"setuid", map[string]any{"old_euid": 0, "new_uid": 5006, "new_euid": 5006, "new_suid": 5006, "new_fsuid": 5006,
			"old_cap_effective": r.CapsetEffective, "new_cap_effective": 0}},
	}
	for _, s := range steps {
		ev := ls.waitArgs(t, "commit_creds", r.Pid, s.want)
		// the fallback names the syscall; the kernel hook leaves it empty
		if want := map[bool]string{true: s.syscall, false: ""}[fallback]; ev.Args["syscall"] != want {
			t.Errorf("commit_creds of %s via %s: syscall %q, want %q", s.syscall, ev.Probe, ev.Args["syscall"], want)
		}
		if exe, ok := ev.Args["exe"]; ok {
			t.Errorf("commit_creds of %s, outside any exec, names exe %v", s.syscall, exe)
		}
	}
}
