package sensor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/event"
)

// Module image capture: the BPF side sends the bytes of a kernel module being
// loaded as module_image_chunk records (bpf/lib/kernel_capture.h); the sensor
// writes them into a file of the capture directory, names it by its sha256
// once whole, and reports it as a module_image_captured event. Chunks are the
// sensor's business and are never published.

// captureStale is how long a capture may wait for its next chunk before it is
// reported incomplete: the BPF side sends all chunks of an image at once, so
// a missing chunk was dropped (the ring buffer was full), not delayed.
const captureStale = 5 * time.Second

// captureEvents are on exactly when the sensor has a capture directory.
var captureEvents = map[string]bool{"module_image_chunk": true, "module_image_captured": true}

type partialImage struct {
	f             *os.File
	total, got    uint64
	first         *event.Event // the chunk at offset 0: its process is the image's
	source, path  string
	last          time.Time // when the sensor got the latest chunk
	lastEventTime time.Time // and when the kernel made it
}

// moduleCapture reassembles images. It is used from the ring buffer reader's
// goroutine only. A nil *moduleCapture drops chunks and makes nothing.
type moduleCapture struct {
	dir   string
	log   zerolog.Logger
	parts map[uint64]*partialImage
	done  []*event.Event
	now   func() time.Time
}

func newModuleCapture(dir string, log zerolog.Logger) (*moduleCapture, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("capture directory: %w", err)
	}
	return &moduleCapture{dir: dir, log: log, parts: map[uint64]*partialImage{}, now: time.Now}, nil
}

// take consumes one module_image_chunk event.
func (c *moduleCapture) take(ev *event.Event) {
	if c == nil {
		return
	}
	now := c.now()
	c.sweep(now)
	chunk := event.ModuleImageChunkArgs(ev.ArgsMap())
	id, off, total, data := chunk.CaptureID(), chunk.Offset(), chunk.Total(), chunk.Data()
	p := c.parts[id]
	if p == nil {
		f, err := os.CreateTemp(c.dir, ".partial-*")
		if err != nil {
			c.log.Warn().Err(err).Msg("module image capture: cannot create a file")
			return
		}
		p = &partialImage{f: f, total: total, first: ev}
		c.parts[id] = p
	}
	if off == 0 {
		p.source, p.path = chunk.Source(), chunk.Pathname()
		p.first = ev
	}
	if _, err := p.f.WriteAt(data, int64(off)); err != nil {
		c.log.Warn().Err(err).Str("file", p.f.Name()).Msg("module image capture: write failed")
	}
	p.got += uint64(len(data))
	p.last, p.lastEventTime = now, ev.Time
	if p.got >= p.total {
		c.finish(id, p)
	}
}

// sweep reports captures that stopped receiving chunks as incomplete.
func (c *moduleCapture) sweep(now time.Time) {
	for id, p := range c.parts {
		if now.Sub(p.last) > captureStale {
			c.finish(id, p)
		}
	}
}

// finish names a whole image by its sha256 (or drops an incomplete one) and
// queues its module_image_captured event.
func (c *moduleCapture) finish(id uint64, p *partialImage) {
	delete(c.parts, id)
	args := event.ModuleImageCapturedArgs{}
	args.SetSize(p.total)
	args.SetReceived(p.got)
	args.SetComplete(p.got >= p.total)
	args.SetSource(p.source)
	args.SetSHA256("")
	if p.path != "" {
		args.SetPathname(p.path)
	}
	defer func() {
		ev := &event.Event{
			Name: "module_image_captured", ID: event.IDModuleImageCaptured, Time: p.lastEventTime, Host: p.first.Host,
			Probe: "sensor (module_image_chunk reassembled)", Process: p.first.Process, Args: args,
		}
		c.done = append(c.done, ev)
	}()
	name := p.f.Name()
	if p.got < p.total {
		p.f.Close()
		os.Remove(name)
		c.log.Warn().Uint64("size", p.total).Uint64("received", p.got).Msg("module image capture incomplete: chunks were lost")
		return
	}
	sum, err := fileSHA256(p.f)
	p.f.Close()
	if err != nil {
		os.Remove(name)
		args.SetComplete(false)
		c.log.Warn().Err(err).Msg("module image capture: hashing failed")
		return
	}
	final := filepath.Join(c.dir, sum)
	if _, err := os.Stat(final); err == nil {
		os.Remove(name) // the same image was kept before
	} else if err := os.Rename(name, final); err != nil {
		os.Remove(name)
		args.SetComplete(false)
		c.log.Warn().Err(err).Msg("module image capture: cannot keep the file")
		return
	}
	args.SetSHA256(sum)
	args.SetFile(final)
}

func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// drain returns the module_image_captured events made since the last call,
// stale captures included. The reader calls it after every record.
func (c *moduleCapture) drain() []*event.Event {
	if c == nil {
		return nil
	}
	if len(c.parts) > 0 {
		c.sweep(c.now())
	}
	if len(c.done) == 0 {
		return nil
	}
	out := c.done
	c.done = nil
	return out
}

// close removes what was never finished.
func (c *moduleCapture) close() error {
	if c == nil {
		return nil
	}
	var errs []error
	for id, p := range c.parts {
		p.f.Close()
		errs = append(errs, os.Remove(p.f.Name()))
		delete(c.parts, id)
	}
	return errors.Join(errs...)
}
