package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/rules"
)

// rules.ValidateEvent must say what rules.DecodeEvent says (the same error,
// or none) on every input: replay validates the events no signature admits
// with it instead of decoding them.

func checkValidate(t testing.TB, line []byte, what string) bool {
	t.Helper()
	_, decErr := rules.DecodeEvent(line)
	valErr := rules.ValidateEvent(line)
	if (decErr == nil) != (valErr == nil) || (decErr != nil && decErr.Error() != valErr.Error()) {
		t.Errorf("%s: rules.ValidateEvent says %v, rules.DecodeEvent %v\nevent: %q", what, valErr, decErr, line)
	}
	return decErr == nil
}

// byteMutate breaks line at the byte level: a byte cut, changed, doubled
// or a cut tail, so that malformed JSON is compared as well.
func byteMutate(r *rand.Rand, line []byte) []byte {
	out := slices.Clone(line)
	if len(out) == 0 {
		return out
	}
	i := r.IntN(len(out))
	switch r.IntN(4) {
	case 0:
		return append(out[:i], out[i+1:]...)
	case 1:
		out[i] = `{}[]",:0-.eE\ ntfu1`[r.IntN(19)]
		return out
	case 2:
		return slices.Insert(out, i, out[i])
	}
	return out[:i]
}

func TestValidateEventAgrees(t *testing.T) {
	valid, bad := 0, 0
	count := func(ok bool) {
		if ok {
			valid++
		} else {
			bad++
		}
	}
	k := 1
	if testing.Short() {
		k = 10
	}
	corpus := corpusLines(t, k)
	for i, line := range corpus {
		count(checkValidate(t, line, "corpus line "+itoa(i*k+1)))
	}
	evs := fixtureEvents(t)
	for i, line := range evs {
		count(checkValidate(t, line, "fixture event "+itoa(i)))
	}
	r := rand.New(rand.NewPCG(3, 4))
	pool := stringPool(evs)
	seeds := append(slices.Clone(evs), corpus[:min(len(corpus), 2000)]...)
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for i := range n {
		line := seeds[r.IntN(len(seeds))]
		count(checkValidate(t, mutate(r, slices.Clone(line), pool), "value mutation "+itoa(i)))
		count(checkValidate(t, byteMutate(r, line), "byte mutation "+itoa(i)))
	}
	if valid == 0 || bad == 0 {
		t.Fatalf("%d valid and %d malformed inputs: the comparison needs both", valid, bad)
	}
	t.Logf("%d valid, %d malformed inputs agree", valid, bad)
}

func FuzzValidateEvent(f *testing.F) {
	for _, ev := range fixtureEvents(f) {
		f.Add(ev)
	}
	for _, line := range corpusLines(f, 500) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValidate(t, data, "fuzz input")
	})
}

// The name and host EvaluateMessage returns and hands to check outlive
// the message's bytes: callers keep them (metric labels, counters) and may
// reuse the buffer, as the lean-event resolver does.
func TestEvaluateMessageNamesOutliveTheBuffer(t *testing.T) {
	eng := testEngine(t, writeTempRules(t))
	for _, msg := range []string{
		`{"name":"security_file_open","id":300,"time":"2026-12-06T00:00:00Z","host":"web-1","process":{"pid":1,"tid":1,"ppid":0,"host_pid":1,"host_tid":1,"host_ppid":0,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"x","cgroup_id":1,"mnt_ns":1,"pid_ns":1},"return_value":0,"args":{"pathname":"/tmp/a","flags":0}}`,
		`{"name":"no_such_event","time":"2026-12-06T00:00:00Z","host":"web-2","process":{"pid":1,"tid":1,"ppid":0,"host_pid":1,"host_tid":1,"host_ppid":0,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"x","cgroup_id":1,"mnt_ns":1,"pid_ns":1},"return_value":0,"args":{}}`,
	} {
		buf := []byte(msg)
		var seenName, seenHost string
		name, _, _ := eng.EvaluateMessage(context.Background(), buf, true, func(n, h string) error {
			seenName, seenHost = n, h
			return nil
		})
		wantName, wantHost := strings.Clone(name), strings.Clone(seenHost)
		for i := range buf {
			buf[i] = 'x'
		}
		if name != wantName || seenName != wantName || seenHost != wantHost || !strings.HasPrefix(msg, `{"name":"`+name) {
			t.Errorf("after the buffer was reused: name %q (check saw %q), host %q; the message was %s", name, seenName, seenHost, msg)
		}
	}
}

// An event's arguments are checked where they are (no map of them is
// built): every kind of value each argument type meets, right and wrong,
// agrees with decoding them.
func TestValidateEventArgs(t *testing.T) {
	const head = `{"name":"sched_process_exec","id":101,"time":"2026-12-06T11:14:48.453604803Z","host":"vm","process":{"pid":7,"tid":7,"ppid":1,"host_pid":7,"host_tid":7,"host_ppid":1,"uid":0,"gid":0,"euid":0,"egid":0,"comm":"true","exe":"/usr/bin/true","argv":["/bin/true"],"cgroup_id":1,"mnt_ns":4026531832,"pid_ns":4026531836},"return_value":0,"args":`
	good := `{"argc":1,"argv":["/bin/true"],"deleted":false,"dev":65024,"env":[],"filename":"/bin/true","header":"f0VMRgIBAQAAAAAAAAAAAAMAPgABAAAA0CMAAAAAAABAAAAAAAAAAJCDAAAAAAAAAAAAAEAAOAANAEAAHwAeAA==","inode":247849,"memfd":false,"mode":33261,"old_pid":7,"pathname":"/usr/bin/true","setuid":false}`
	args := []string{
		good, `{}`, `null`, `[]`, `"x"`, `{"argv":null}`, `{"env":null,"argv":[]}`,
		`{"argc":"1"}`, `{"argc":1.5}`, `{"argc":1e3}`, `{"argc":-0}`, `{"argc":-1}`, `{"argc":99999999999999999999}`,
		`{"argc":true}`, `{"argc":null}`, `{"dev":-1}`, `{"dev":18446744073709551615}`, `{"dev":18446744073709551616}`,
		`{"filename":1}`, `{"filename":null}`, `{"filename":"a\"b\\u0041"}`, `{"filename":"\ud800"}`,
		`{"argv":"x"}`, `{"argv":[1]}`, `{"argv":["a",null]}`, `{"argv":[["a"]]}`, `{"argv":{}}`,
		`{"header":"not base64!"}`, `{"header":"QUJD"}`, `{"header":"QUJ"}`, `{"header":"QU\u004aD"}`, `{"header":""}`,
		`{"header":null}`, `{"header":123}`, `{"header":"` + strings.Repeat("QUJD", 300) + `"}`,
		`{"memfd":1}`, `{"memfd":null}`, `{"memfd":"true"}`, `{"memfd":true}`,
		`{"argc":1,"argc":1}`, `{"unknown":{"a":[1,{"b":null}]}}`, `{"unknown":{"a":1,"a":2}}`, `{"unknown":1.5e3}`,
		`{"argc":1,}`, `{"argc" 1}`, `{"argc":01}`, `{"argc":1 ,"argv" : [ "a" , "b" ] }`,
	}
	for i, a := range args {
		checkValidate(t, []byte(head+a+`}`), "exec args "+itoa(i)+" "+a)
		// the arguments before the name: read without knowing the event
		reordered := `{"args":` + a + `,` + strings.TrimPrefix(head, `{`)[:len(head)-len(`,"args":`)-1] + `}`
		checkValidate(t, []byte(reordered), "exec args first "+itoa(i)+" "+a)
	}
	if err := rules.ValidateEvent([]byte(head + good + `}`)); err != nil {
		t.Errorf("a good exec event: %v", err)
	}
}
