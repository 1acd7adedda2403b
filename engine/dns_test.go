package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

func signatureByID(t testing.TB, set *rules.Set, event, id string) *rules.Signature {
	t.Helper()
	for _, s := range set.ForEvent(event) {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no signature %s selects %s", id, event)
	return nil
}

// TestDNSTunnelingAgreesWithReference compares the shipped dns-tunneling
// with the form it had before it was written for speed (the plain statement
// of what it detects, testdata/dns) on DNS events: ordinary names, names
// shaped like tunnelled data, names at each threshold of the rule (label
// lengths 32 and 52, 12 labels, 180 characters, 3 dashes, entropy 4.1) with
// and without the excluded suffixes, and mutations of them (characters
// dropped, doubled, swapped for a dot or upper case). Both must yield the
// same findings, field by field, and the fast path of the shipped
// signatures must admit every event a signature fires on.
func TestDNSTunnelingAgreesWithReference(t *testing.T) {
	shipped, err := rules.Load(rules.LoadOptions{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	ref := shippedWith(t, map[string]string{"command_and_control/dns_tunneling.rego": beforeDNSTunneling(t)})
	sigNew := signatureByID(t, shipped, "net_packet_dns", "dns-tunneling")
	sigRef := signatureByID(t, ref, "net_packet_dns", "dns-tunneling")
	checker := &fastPathChecker{set: shipped}
	tmpl := dnsTemplate(t)
	r := rand.New(rand.NewPCG(53, 8))

	names := slices.Clone(benignDNSNames)
	n := 3000
	if testing.Short() {
		n = 600
	}
	for range n / 3 {
		names = append(names, tunnelDNSName(r), boundaryDNSName(r), mutateDNSName(r, boundaryDNSName(r)))
	}
	reasons := map[string]int{}
	fired, quiet := 0, 0
	for i, name := range names {
		response := i%7 == 3
		line := dnsEvent(t, tmpl, name, "TXT", response)
		ev, err := event.Unmarshal(line)
		if err != nil {
			t.Fatal(err)
		}
		input := rules.Input(ev)
		got, err := sigNew.Eval(context.Background(), input)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		want, err := sigRef.Eval(context.Background(), input)
		if err != nil {
			t.Fatalf("%q: reference: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("qname %q (response %v): shipped dns-tunneling yields %v, the reference %v", name, response, got, want)
		}
		if len(want) > 0 {
			fired++
			for _, x := range want[0]["reasons"].([]any) {
				reasons[x.(string)]++
			}
		} else {
			quiet++
		}
		checker.check(t, line, fmt.Sprintf("qname %q", name))
	}
	for _, reason := range []string{"long-label", "random-label", "long-name", "many-labels"} {
		if reasons[reason] == 0 {
			t.Errorf("no name fired with reason %s: the comparison does not reach it", reason)
		}
	}
	if quiet < len(names)/4 {
		t.Errorf("only %d of %d names were quiet: the comparison hardly reaches the rule's boundary", quiet, len(names))
	}
	t.Logf("%d names: %d fired (reasons %v), %d quiet; fast path: %d signature evaluations admitted, %d rejected",
		len(names), fired, reasons, quiet, checker.admitted, checker.rejected)
}

// TestDNSTunnelingQuietOnOrdinaryNames: the names hosts look up in ordinary
// work (package hosts, search-path expansions, PTR and SRV lookups, long CDN
// and cloud names, DKIM and reputation lookups) fire nothing.
func TestDNSTunnelingQuietOnOrdinaryNames(t *testing.T) {
	eng := builtinEngine(t)
	tmpl := dnsTemplate(t)
	for _, name := range benignDNSNames {
		for _, qtype := range []string{"A", "AAAA", "PTR", "SRV", "TXT"} {
			fs, err := eng.EvaluateJSON(context.Background(), dnsEvent(t, tmpl, name, qtype, false))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				t.Errorf("%s %s: %s fired: %v", qtype, name, f.Signature.ID, f.Fields)
			}
		}
	}
}

// mutateDNSName changes a few characters of name: dropped, doubled, turned
// into a dot, a dash or upper case.
func mutateDNSName(r *rand.Rand, name string) string {
	b := []byte(name)
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := r.IntN(len(b))
		switch r.IntN(5) {
		case 0:
			b = slices.Delete(b, i, i+1)
		case 1:
			b = slices.Insert(b, i, b[i])
		case 2:
			b[i] = '.'
		case 3:
			b[i] = '-'
		default:
			if b[i] >= 'a' && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
		}
	}
	return string(b)
}
