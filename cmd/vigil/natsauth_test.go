package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, into dir.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p := testPKI{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		cert, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, cert, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		return cert, keyFile
	}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// vigil's NATS clients talk to a server that demands TLS with client
// certificates and authenticates users by password or nkey.
func TestNATSTLSAndCredentials(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(dir, "user.nk")
	os.WriteFile(seedFile, seed, 0o600)
	conf := filepath.Join(dir, "server.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`
tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify: true
}
authorization {
  users = [
    {user: "capture", password: "s3cret"}
    {nkey: %q}
  ]
}
`, pki.serverCert, pki.serverKey, pki.ca, pub)), 0o644)
	srv := natstest.Start(t, 0, "-c", conf)
	url := strings.Replace(srv.URL, "nats://", "tls://", 1)

	publisher, err := nats.Connect(url, nats.RootCAs(pki.ca), nats.ClientCert(pki.clientCert, pki.clientKey), nats.UserInfo("capture", "s3cret"))
	if err != nil {
		t.Fatalf("test client: %v", err)
	}
	defer publisher.Close()

	tlsArgs := []string{"--nats", url, "--nats-tls-ca", pki.ca, "--nats-tls-cert", pki.clientCert, "--nats-tls-key", pki.clientKey}
	for _, tc := range []struct {
		name string
		auth []string
	}{
		{"password", []string{"--nats-user", "capture", "--nats-password", "s3cret"}},
		{"nkey", []string{"--nats-nkey", seedFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "c.jsonl")
			args := append([]string{"capture", "-o", out, "--count", "1", "--log-format", "json"}, append(tlsArgs, tc.auth...)...)
			c := startChild(t, "capture", mustVigil(t), args...)
			c.waitLog(t, "capturing", 20*time.Second)
			data, _ := sampleEvents()[0].Marshal()
			publisher.Publish(event.EventSubject("execve", "host-a"), data)
			if err := c.wait(t, 20*time.Second); err != nil {
				t.Fatalf("capture over TLS with %s: %v", tc.name, err)
			}
			if lines := readCapture(t, out); len(lines) != 1 || lines[0] != string(data) {
				t.Errorf("captured %q", lines)
			}
		})
	}

	// Without the client certificate, with a wrong password, or without
	// trusting the CA, the connection is refused with an error.
	for name, args := range map[string][]string{
		"no client certificate": {"--nats", url, "--nats-tls-ca", pki.ca, "--nats-user", "capture", "--nats-password", "s3cret"},
		"wrong password":        append(append([]string{}, tlsArgs...), "--nats-user", "capture", "--nats-password", "nope"),
		"unknown CA":            {"--nats", url, "--nats-tls-cert", pki.clientCert, "--nats-tls-key", pki.clientKey, "--nats-user", "capture", "--nats-password", "s3cret"},
	} {
		_, _, err := runVigil(t, append([]string{"capture", "-o", filepath.Join(dir, "x.jsonl"), "--count", "1"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "connecting to NATS") {
			t.Errorf("%s: capture connected (err %v)", name, err)
		}
	}
	// A missing credentials file is named before any connection attempt.
	_, _, err = runVigil(t, "capture", "-o", filepath.Join(dir, "x.jsonl"), "--nats", url, "--nats-creds", filepath.Join(dir, "missing.creds"))
	if err == nil || !strings.Contains(err.Error(), "--nats-creds") {
		t.Errorf("missing creds file: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:p@h:4222":           "nats://u:xxxxx@h:4222",
		"nats://h:4222,tls://a:b@c:1": "nats://h:4222,tls://a:xxxxx@c:1",
		"u:p@h":                       "u:xxxxx@h",
		"nats://127.0.0.1:4222":       "nats://127.0.0.1:4222",
		"nats://tok@h":                "nats://xxxxx@h",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
