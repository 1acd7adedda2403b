package event_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The contract and its consumers build without the sensor: the engine, the
// rule tools and this package import no sensor or BPF package (nor
// cilium/ebpf), so that replay and rule tests run anywhere.
func TestConsumersImportNoSensor(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: no go tool to list imports with")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", "../event/...", "../engine/...", "../rules/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/vigil-sec/vigil/sensor") || strings.HasPrefix(p, "github.com/vigil-sec/vigil/bpf") ||
			strings.HasPrefix(p, "github.com/cilium/ebpf") {
			t.Errorf("event, engine or rules depend on %s", p)
		}
	}
}
