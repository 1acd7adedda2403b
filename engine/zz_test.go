package engine
import ("testing";"fmt";"time";"context";"github.com/vigil-sec/vigil/rules";"github.com/vigil-sec/vigil/event")
func TestZZ(t *testing.T) {
	lines := corpusLines(t, 1)
	set, _ := rules.Load(rules.LoadOptions{Builtin: true})
	m := set.Matcher()
	cnt := map[string]int{}
	dur := map[string]time.Duration{}
	for _, l := range lines {
		name, sigs, _ := m.MatchJSON(l, nil)
		if len(sigs) == 0 { continue }
		ev, _ := event.Unmarshal(l)
		in := rules.Input(ev)
		for _, s := range sigs {
			t0 := time.Now()
			s.Eval(context.Background(), in)
			cnt[name+" "+s.ID]++
			dur[name+" "+s.ID] += time.Since(t0)
		}
	}
	for k, v := range cnt { fmt.Printf("%6d %10d %10d %s\n", v, dur[k].Microseconds(), (dur[k]/time.Duration(v)).Microseconds(), k) }
}
