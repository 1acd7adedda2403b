package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Output is where findings go besides NATS: a terminal, a pipe, a file.
// Implementations are safe for concurrent use.
type Output interface {
	// Write emits one finding.
	Write(f *Finding) error
	// Close flushes and releases the output (not the writer it was given).
	Close() error
}

// NewOutput returns the output for a format name: "text" (one readable line
// per finding, coloured when color is set) or "json" (one JSON object per line).
func NewOutput(w io.Writer, format string, color bool) (Output, error) {
	switch format {
	case "text", "":
		return NewTextOutput(w, color), nil
	case "json":
		return NewJSONOutput(w), nil
	}
	return nil, fmt.Errorf("output format %q: want text or json", format)
}

// jsonOutput writes findings as JSON lines, the form they have on NATS.
type jsonOutput struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONOutput writes one JSON finding per line to w.
func NewJSONOutput(w io.Writer) Output { return &jsonOutput{w: w} }

func (o *jsonOutput) Write(f *Finding) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encoding finding: %w", err)
	}
	data = append(data, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err = o.w.Write(data)
	return err
}

func (o *jsonOutput) Close() error { return nil }

// textOutput writes one readable line per finding.
type textOutput struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// NewTextOutput writes one readable line per finding to w: the event's time, severity,
// signature id and name, the process (pid, comm, exe) and a short summary of
// the signature's own fields.
func NewTextOutput(w io.Writer, color bool) Output { return &textOutput{w: w, color: color} }

func (o *textOutput) Write(f *Finding) error {
	line := FormatText(f, o.color)
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := io.WriteString(o.w, line+"\n")
	return err
}

func (o *textOutput) Close() error { return nil }

var severityColor = map[string]string{
	"low":      "\x1b[36m", // cyan
	"medium":   "\x1b[33m", // yellow
	"high":     "\x1b[31m", // red
	"critical": "\x1b[1;41;97m",
}

const (
	maxFieldValue = 80  // characters of one field value in a text line
	maxSummary    = 300 // characters of the whole field summary
)

// FormatText renders a finding as one line (without newline).
func FormatText(f *Finding, color bool) string {
	var b strings.Builder
	// When it happened, not when the engine noticed (they differ in replay).
	t := f.Time
	if f.Event != nil && !f.Event.Time.IsZero() {
		t = f.Event.Time
	}
	b.WriteString(t.Local().Format("2006-01-02T15:04:05.000Z07:00"))
	b.WriteByte(' ')
	sev := strings.ToUpper(f.Signature.Severity)
	if sev == "" {
		sev = "?"
	}
	if c, ok := severityColor[f.Signature.Severity]; ok && color {
		fmt.Fprintf(&b, "%s%-8s\x1b[0m", c, sev)
	} else {
		fmt.Fprintf(&b, "%-8s", sev)
	}
	b.WriteByte(' ')
	if color {
		fmt.Fprintf(&b, "\x1b[1m%s\x1b[0m", f.Signature.ID)
	} else {
		b.WriteString(f.Signature.ID)
	}
	if f.Signature.Name != "" {
		fmt.Fprintf(&b, " %q", f.Signature.Name)
	}
	if ev := f.Event; ev != nil {
		p := ev.Process
		fmt.Fprintf(&b, " pid=%d", p.Pid)
		if p.HostPid != 0 && p.HostPid != p.Pid {
			fmt.Fprintf(&b, " host_pid=%d", p.HostPid)
		}
		fmt.Fprintf(&b, " comm=%s", quoteIfNeeded(p.Comm))
		if p.Exe != "" {
			fmt.Fprintf(&b, " exe=%s", quoteIfNeeded(p.Exe))
		}
		if p.ContainerID != "" {
			fmt.Fprintf(&b, " container=%.12s", p.ContainerID)
		}
		fmt.Fprintf(&b, " event=%s", ev.Name)
	}
	if f.Host != "" {
		fmt.Fprintf(&b, " host=%s", quoteIfNeeded(f.Host))
	}
	if s := summarizeFields(f.Fields); s != "" {
		b.WriteString(" | ")
		b.WriteString(s)
	}
	return b.String()
}

// summarizeFields renders the scalar fields, then the lists of scalars, of a
// finding as key=value pairs, each group sorted by key; nested objects are
// left out (they are in the JSON form).
func summarizeFields(fields map[string]any) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	isList := func(k string) bool {
		switch fields[k].(type) {
		case []any, []string:
			return true
		}
		return false
	}
	sort.Slice(keys, func(i, j int) bool {
		if li, lj := isList(keys[i]), isList(keys[j]); li != lj {
			return lj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for _, k := range keys {
		v, ok := scalarText(fields[k])
		if !ok {
			continue
		}
		part := k + "=" + v
		if b.Len()+len(part)+1 > maxSummary {
			b.WriteString(" …")
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(part)
	}
	return b.String()
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		if x == "" {
			return "", false
		}
		return quoteIfNeeded(truncate(x)), true
	case bool, int, int32, int64, uint, uint32, uint64, float64, json.Number:
		return fmt.Sprint(x), true
	case []string:
		return listText(len(x), func(i int) (string, bool) { return scalarText(x[i]) })
	case []any:
		return listText(len(x), func(i int) (string, bool) { return scalarText(x[i]) })
	}
	return "", false
}

func listText(n int, at func(int) (string, bool)) (string, bool) {
	if n == 0 {
		return "", false
	}
	parts := make([]string, 0, n)
	for i := range n {
		s, ok := at(i)
		if !ok {
			return "", false
		}
		parts = append(parts, s)
	}
	return truncate("[" + strings.Join(parts, ",") + "]"), true
}

func truncate(s string) string {
	if len(s) <= maxFieldValue {
		return s
	}
	cut := maxFieldValue
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, " \t\n\"=|") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// fileOutput appends JSON lines to a file.
type fileOutput struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// OpenFileOutput appends findings as JSON lines to the file at path, creating
// it when missing. Lines are flushed at least once a second.
func OpenFileOutput(path string) (Output, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening findings file: %w", err)
	}
	o := &fileOutput{path: path, f: f, w: bufio.NewWriter(f), stop: make(chan struct{}), done: make(chan struct{})}
	go o.flusher()
	return o, nil
}

func (o *fileOutput) flusher() {
	defer close(o.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.mu.Lock()
			o.w.Flush()
			o.mu.Unlock()
		}
	}
}

func (o *fileOutput) Write(f *Finding) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encoding finding: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	return nil
}

func (o *fileOutput) Close() error {
	close(o.stop)
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	err := errors.Join(o.w.Flush(), o.f.Close())
	if err != nil {
		return fmt.Errorf("closing %s: %w", o.path, err)
	}
	return nil
}

// Outputs sends every finding to each of its outputs.
type Outputs []Output

// Write writes f to every output and returns their errors joined.
func (outs Outputs) Write(f *Finding) error {
	var errs []error
	for _, o := range outs {
		if err := o.Write(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close closes every output.
func (outs Outputs) Close() error {
	var errs []error
	for _, o := range outs {
		errs = append(errs, o.Close())
	}
	return errors.Join(errs...)
}
