package sensor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// chunks cuts image into module_image_chunk events of n bytes, as the BPF
// side sends them.
func chunks(id uint64, image []byte, n int, source, path string) []*event.Event {
	var out []*event.Event
	for off := 0; off < len(image); off += n {
		end := min(off+n, len(image))
		args := map[string]any{"capture_id": id, "offset": uint64(off), "total": uint64(len(image)), "data": image[off:end]}
		if off == 0 {
			args["source"] = source
			if path != "" {
				args["pathname"] = path
			}
		}
		out = append(out, &event.Event{Name: "module_image_chunk", ID: event.IDModuleImageChunk, Host: "h",
			Time: time.Unix(1000, int64(off)), Process: event.Process{Pid: 42, HostPid: 42, Comm: "insmod"}, Args: args})
	}
	return out
}

func newTestCapture(t *testing.T) (*moduleCapture, string, *time.Time) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "modules")
	c, err := newModuleCapture(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(5000, 0)
	c.now = func() time.Time { return now }
	return c, dir, &now
}

func TestModuleCaptureReassembles(t *testing.T) {
	c, dir, _ := newTestCapture(t)
	image := bytes.Repeat([]byte("\x7fELF module bytes "), 1000) // 18 KB: five chunks
	sum := sha256.Sum256(image)
	want := hex.EncodeToString(sum[:])

	cs := chunks(7, image, 4096, "security_kernel_post_read_file", "/lib/modules/x/evil.ko")
	// the last chunk first: order does not matter to the file
	cs[0], cs[len(cs)-1] = cs[len(cs)-1], cs[0]
	for i, ev := range cs {
		c.take(ev)
		if got := c.drain(); (len(got) != 0) != (i == len(cs)-1) {
			t.Fatalf("after chunk %d: %d events", i, len(got))
		} else if len(got) == 1 {
			ev := got[0]
			if ev.Name != "module_image_captured" || ev.ID != event.IDModuleImageCaptured || ev.Process.Comm != "insmod" {
				t.Errorf("event %+v", ev)
			}
			if ev.Args["sha256"] != want || ev.Args["size"] != uint64(len(image)) || ev.Args["complete"] != true ||
				ev.Args["source"] != "security_kernel_post_read_file" || ev.Args["pathname"] != "/lib/modules/x/evil.ko" ||
				ev.Args["file"] != filepath.Join(dir, want) {
				t.Errorf("args %v, want sha256 %s", ev.Args, want)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, want))
	if err != nil || !bytes.Equal(data, image) {
		t.Fatalf("kept image: %d bytes, %v", len(data), err)
	}
	// the same image again: one file, a second event
	for _, ev := range chunks(8, image, 4096, "init_module", "") {
		c.take(ev)
	}
	got := c.drain()
	if len(got) != 1 || got[0].Args["sha256"] != want || got[0].Args["source"] != "init_module" {
		t.Fatalf("second capture: %v", got)
	}
	if _, ok := got[0].Args["pathname"]; ok {
		t.Errorf("init_module capture has a pathname: %v", got[0].Args)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the capture directory, want 1", len(ents))
	}
}

func TestModuleCaptureReportsLostChunks(t *testing.T) {
	c, dir, now := newTestCapture(t)
	image := bytes.Repeat([]byte{0xcc}, 10000)
	cs := chunks(9, image, 4096, "init_module", "")
	c.take(cs[0])
	c.take(cs[2]) // the middle one was dropped by the ring buffer
	if got := c.drain(); len(got) != 0 {
		t.Fatalf("incomplete capture reported at once: %v", got)
	}
	*now = now.Add(captureStale + time.Second)
	got := c.drain()
	if len(got) != 1 || got[0].Args["complete"] != false || got[0].Args["received"] != uint64(4096+10000-8192) ||
		got[0].Args["sha256"] != "" || got[0].Args["size"] != uint64(10000) {
		t.Fatalf("stale capture: %v", got)
	}
	if _, ok := got[0].Args["file"]; ok {
		t.Errorf("incomplete capture names a file: %v", got[0].Args)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("incomplete capture left %d files", len(ents))
	}
}

func TestModuleCaptureOffDropsChunks(t *testing.T) {
	var c *moduleCapture
	c.take(chunks(1, []byte("x"), 4096, "init_module", "")[0])
	if c.drain() != nil || c.close() != nil {
		t.Fatal("a nil capture made something")
	}
}
