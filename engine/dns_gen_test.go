package engine

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/signatures"
)

// benignDNSNames are names hosts look up in ordinary work: package and code
// hosts, Kubernetes search-path expansions, reverse lookups (PTR), service
// records (SRV), and the long names of CDNs and cloud load balancers.
var benignDNSNames = []string{
	"proxy.golang.org", "sum.golang.org", "github.com", "api.github.com",
	"objects.githubusercontent.com", "deb.debian.org", "security.debian.org",
	"archive.ubuntu.com", "pypi.org", "files.pythonhosted.org", "registry-1.docker.io",
	"production.cloudflare.docker.com", "ntp.ubuntu.com", "localhost", "db", "redis.",
	"www.google.com", "fonts.gstatic.com", "www.google-analytics.com",
	"github.com.default.svc.cluster.local", "api.github.com.svc.cluster.local",
	"postgres.payments.svc.cluster.local.", "kube-dns.kube-system.svc.cluster.local",
	"4.3.2.10.in-addr.arpa", "53.255.255.10.in-addr.arpa.",
	"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa",
	"_ldap._tcp.dc._msdcs.corp.example.com", "_kerberos._udp.EXAMPLE.COM",
	"_xmpp-client._tcp.example.org", "_sip._tls.lync.example.net", "_http._tcp.deb.debian.org",
	"e6858.dsce9.akamaiedge.net", "d3c33hcgiwev3.cloudfront.net", "r3---sn-4g5ednsz.googlevideo.com",
	"edge-star-mini-shv-01-ams4.facebook.com", "a1b2c3d4e5f6g7h8i9j0.execute-api.us-east-1.amazonaws.com",
	"internal-my-application-lb-1234567890.us-east-1.elb.amazonaws.com",
	"prod-eks-cluster-nodegroup-worker-abcdef123456.eu-west-1.compute.internal",
	"8a1f2c3e-1234-5678-9abc-def012345678.privatelink.westeurope.azmk8s.io",
	"3f2504e04f8911d39a0c0305e82c3301.s3.amazonaws.com",
	"ip-10-0-12-34.eu-central-1.compute.internal", "ec2-54-12-34-56.compute-1.amazonaws.com",
	"this-is-a-very-long-but-perfectly-ordinary-host-name-for-a-service.example.com",
	"selector1._domainkey.example.com", "2.0.0.127.zen.spamhaus.org",
	"1234567890abcdef1234567890abcdef12345678.hash.cymru.com",
}

const (
	base32Chars = "abcdefghijklmnopqrstuvwxyz234567"
	hexChars    = "0123456789abcdef"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	wordChars   = "abcdefghijklmnopqrstuvwxyz-"
)

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// tunnelDNSName is a name shaped like data over DNS: one or more encoded
// labels (base32, hex, base64url) under a domain, or many short labels.
func tunnelDNSName(r *rand.Rand) string {
	domain := []string{"t.example.net", "x.evil.example", "d2.example.org", "ns.example.com"}[r.IntN(4)]
	switch r.IntN(4) {
	case 0: // iodine / DNSExfiltrator: one long label
		return randString(r, base32Chars, 40+r.IntN(24)) + "." + domain
	case 1: // dnscat2: several hex labels
		n := 2 + r.IntN(3)
		labels := make([]string, n)
		for i := range labels {
			labels[i] = randString(r, hexChars, 30+r.IntN(34))
		}
		return strings.Join(labels, ".") + "." + domain
	case 2: // base64url chunk
		return randString(r, base64Chars, 32+r.IntN(32)) + "." + domain
	default: // data spread over many short labels
		n := 10 + r.IntN(8)
		labels := make([]string, n)
		for i := range labels {
			labels[i] = randString(r, base32Chars, 1+r.IntN(8))
		}
		return strings.Join(labels, ".") + "." + domain
	}
}

// boundaryDNSName is a name near one of dns-tunneling's thresholds (label
// lengths 32 and 52, 12 labels, 180 bytes, 3 dashes, entropy 4.1) or odd in
// form (upper case, empty labels, a root dot, bytes outside ASCII, longer
// than DNS allows), with or without an excluded suffix: for the differential
// test between the reference form of the signature and the shipped one.
func boundaryDNSName(r *rand.Rand) string {
	label := func() string {
		n := []int{1, 3, 8, 20, 30, 31, 32, 33, 40, 50, 51, 52, 53, 60, 63, 64, 70}[r.IntN(17)]
		switch r.IntN(8) {
		case 0:
			return randString(r, base32Chars, n)
		case 1:
			return randString(r, hexChars, n)
		case 2:
			return randString(r, base64Chars, n)
		case 3: // letters and dashes only
			return randString(r, wordChars, n)
		case 4: // digits only
			return randString(r, "0123456789", n)
		case 5: // encoded with a few dashes
			s := []byte(randString(r, base32Chars, n))
			for range r.IntN(6) {
				s[r.IntN(len(s))] = '-'
			}
			return string(s)
		case 6: // low entropy: few distinct characters
			return randString(r, "ab12", n)
		default:
			return randString(r, "abcdefghij0123456789", n)
		}
	}
	var labels []string
	switch r.IntN(3) {
	case 0:
		labels = []string{label()}
	case 1:
		for range 10 + r.IntN(4) { // 11 to 13 labels with the domain
			labels = append(labels, randString(r, base32Chars, 1+r.IntN(3)))
		}
	default:
		for range 1 + r.IntN(5) {
			labels = append(labels, label())
		}
	}
	suffix := []string{
		"example.com", "example.com.", "EXAMPLE.NET", "in-addr.arpa", "ip6.arpa",
		"_domainkey.example.com", "zen.spamhaus.org", "avqs.mcafee.com", "mcafee.com",
		"notspamhaus.org", "cymru.com.", "example..org", "é.example", "x",
	}[r.IntN(14)]
	name := strings.Join(labels, ".") + "." + suffix
	switch r.IntN(6) {
	case 0:
		name = strings.ToUpper(name)
	case 1: // pad towards the 180-byte threshold with an ordinary label
		if pad := 176 + r.IntN(8) - len(name); pad > 1 {
			name = randString(r, wordChars[:26], pad-1) + "." + name
		}
	}
	return name
}

// dnsEvent is a net_packet_dns event (the process of the captured corpus's
// first DNS query) for name, a query or its response, as a JSON line.
func dnsEvent(tb testing.TB, tmpl map[string]any, name, qtype string, response bool) []byte {
	tb.Helper()
	args := map[string]any{}
	for k, v := range tmpl["args"].(map[string]any) {
		args[k] = v
	}
	args["qname"], args["qtype"], args["response"] = name, qtype, response
	if response {
		args["answer_count"] = 1
		args["answers"] = []string{"203.0.113.80"}
		args["saddr"], args["daddr"], args["sport"], args["dport"] = args["daddr"], args["saddr"], args["dport"], args["sport"]
		args["direction"] = "ingress"
	}
	ev := map[string]any{}
	for k, v := range tmpl {
		ev[k] = v
	}
	ev["args"] = args
	line, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return append(line, '\n')
}

// dnsTemplate is the first DNS query of the captured corpus, decoded.
func dnsTemplate(tb testing.TB) map[string]any {
	tb.Helper()
	for _, l := range corpusLines(tb, 1) {
		if n, _ := eventName(l); n != "net_packet_dns" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			tb.Fatal(err)
		}
		if m["args"].(map[string]any)["response"] == false {
			return m
		}
	}
	tb.Fatal("the corpus holds no DNS query")
	return nil
}

// shippedWith loads a copy of the shipped signatures (library included)
// in which the files named in replace (paths as in signatures.FS) have
// other contents; tests and fixtures are left out.
func shippedWith(tb testing.TB, replace map[string]string) *rules.Set {
	tb.Helper()
	dir := tb.TempDir()
	src := signatures.FS()
	files := map[string][]byte{}
	for p, data := range replace {
		files[p] = []byte(data)
	}
	paths, err := fs.Glob(src, "*/*.rego")
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.rego") || files[p] != nil {
			continue
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			tb.Fatal(err)
		}
		files[p] = data
	}
	for p, data := range files {
		out := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	set, err := rules.Load(rules.LoadOptions{Dirs: []string{dir}})
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// beforeDNSTunneling is dns-tunneling in the form it had before it was
// written for speed: the plain statement of what it detects, kept as the
// reference the shipped form is compared with.
func beforeDNSTunneling(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "dns", "dns_tunneling_before.rego"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}
