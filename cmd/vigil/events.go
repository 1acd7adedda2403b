package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/sensor"
	"github.com/vigil-sec/vigil/sensor/load"
)

type eventsFlags struct {
	output string
	probes string
}

func newEventsCmd(g *globalFlags) *cobra.Command {
	f := &eventsFlags{}
	cmd := &cobra.Command{
		Use:   "events [NAME...]",
		Short: "List the events the sensor emits, their arguments and the probe that feeds each",
		Long: `events lists every event vigil's sensor can emit with its arguments and their
types: what a signature sees as input.args. Every event also carries the
process context (input.process) described at the top.

An argument the sensor could not read (a caller's string in a page not yet
faulted in, a bad pointer) is never sent as "" or []: it is left out of
args and named in the event's top-level "unreadable" list, e.g.
"unreadable": ["pathname", "argv"]. Its value is unknown.

As root (or with --probes attach) the sensor is loaded and attached to report,
per event, the probe this kernel accepted; otherwise (--probes list) it shows
the probes the sensor would try, in order of preference.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			return runEvents(cmd.OutOrStdout(), log, f, args)
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&f.probes, "probes", "auto", "auto (attach when root), attach (load the sensor and report the attached probes) or list (the probes it would try)")
	return cmd
}

// eventDoc is the JSON form of one event in the listing.
type eventDoc struct {
	Name   string     `json:"name"`
	ID     event.ID   `json:"id"`
	Doc    string     `json:"doc,omitempty"`
	Off    bool       `json:"off_by_default,omitempty"`
	Args   []argDoc   `json:"args"`
	Probes []probeDoc `json:"probes"`
	// Attached is the probe the sensor attached on this kernel (attach mode).
	Attached string `json:"attached,omitempty"`
	Fallback bool   `json:"fallback,omitempty"`
	// Skipped says why no probe, or no better probe, attached.
	Skipped string `json:"skipped,omitempty"`
}

type argDoc struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc,omitempty"`
}

type probeDoc struct {
	Name     string `json:"name"`
	Fallback bool   `json:"fallback,omitempty"`
}

// processFields documents input.process for rule authors.
var processFields = [][2]string{
	{"pid, tid, ppid", "ids in the task's own pid namespace"},
	{"host_pid, host_tid, host_ppid", "ids as the host sees them"},
	{"uid, gid, euid, egid", "the task's credentials"},
	{"comm", "the task's command name (16 bytes at most)"},
	{"exe", "path of the executable"},
	{"argv", "the process's arguments"},
	{"cgroup_id, container_id", "cgroup, and the container id when inside a container"},
	{"mnt_ns, pid_ns", "mount and pid namespace ids"},
	{"start_time", "when the process started"},
	{"ancestors", "parent, grandparent, ... each with pid, host_pid, comm, exe, argv, uid"},
}

func runEvents(out io.Writer, log zerolog.Logger, f *eventsFlags, names []string) error {
	var specs []event.Spec
	if len(names) == 0 {
		specs = event.All()
	} else {
		for _, n := range names {
			s, ok := event.Lookup(n)
			if !ok {
				return fmt.Errorf("no event named %q (vigil events lists them all)", n)
			}
			specs = append(specs, s)
		}
	}

	attach := false
	switch f.probes {
	case "auto":
		attach = os.Geteuid() == 0
	case "attach":
		attach = true
	case "list":
	default:
		return fmt.Errorf("--probes %q: want auto, attach or list", f.probes)
	}
	var status map[string]sensor.ProbeStatus
	var attachErr error
	if attach {
		status, attachErr = attachedProbes(log)
		if attachErr != nil {
			if f.probes == "attach" {
				return attachErr
			}
			log.Warn().Err(attachErr).Msg("could not load the sensor; listing the probes it would try")
		}
	}

	docs := make([]eventDoc, 0, len(specs))
	for _, s := range specs {
		d := eventDoc{Name: s.Name, ID: s.ID, Doc: s.Doc, Off: s.Off, Args: []argDoc{}}
		for _, a := range s.Args {
			d.Args = append(d.Args, argDoc{Name: a.Name, Type: a.Type.String(), Doc: a.Doc})
		}
		for _, p := range load.EventProbes(s.ID) {
			d.Probes = append(d.Probes, probeDoc{Name: p.Name, Fallback: p.Fallback})
		}
		if st, ok := status[s.Name]; ok {
			d.Attached, d.Fallback = st.Probe, st.Fallback
			if st.Err != nil {
				d.Skipped = st.Err.Error()
			}
		}
		docs = append(docs, d)
	}

	switch f.output {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(docs)
	case "text":
		return writeEventsText(out, docs, status != nil)
	default:
		return fmt.Errorf("--output %q: want text or json", f.output)
	}
}

// attachedProbes loads and attaches the sensor, reads which probe each event
// got, and unloads it again.
func attachedProbes(log zerolog.Logger) (map[string]sensor.ProbeStatus, error) {
	// every event, off-by-default ones too: the list says what each would get
	s, err := sensor.New(sensor.Config{Host: hostname(), Logger: log.With().Str("component", "sensor").Logger(), Enable: event.Names()})
	if err != nil {
		return nil, fmt.Errorf("loading the sensor: %w", err)
	}
	defer s.Close()
	out := map[string]sensor.ProbeStatus{}
	for _, st := range s.Probes() {
		out[st.Event] = st
	}
	return out, nil
}

func writeEventsText(out io.Writer, docs []eventDoc, attached bool) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "Every event is input in Rego: input.name, input.id, input.time, input.host, input.probe,")
	fmt.Fprintln(w, "input.return_value, input.args.<argument> (listed per event below) and input.process:")
	for _, pf := range processFields {
		fmt.Fprintf(w, "  %s\t%s\n", pf[0], pf[1])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "An argument the sensor could not read (a caller's string in a page not yet faulted in)")
	fmt.Fprintln(out, "is never sent as \"\" or []: it is left out of input.args and named in input.unreadable,")
	fmt.Fprintln(out, "e.g. [\"pathname\", \"argv\"]: its value is unknown.")
	fmt.Fprintln(out, "Execs: a successful exec is one sched_process_exec event (argv, argc, the file, from what the")
	fmt.Fprintln(out, "kernel copied); execve and execveat are only the execs that failed, sent when the syscall")
	fmt.Fprintln(out, "returns, with the error in input.return_value (-2 ENOENT, -13 EACCES, ...).")
	for _, d := range docs {
		off := ""
		if d.Off {
			off = " (off by default)"
		}
		fmt.Fprintf(out, "\n%s (id %d): %s%s\n", d.Name, d.ID, d.Doc, off)
		switch {
		case attached && d.Attached != "":
			kind := "preferred"
			if d.Fallback || len(d.Probes) == 0 || d.Attached != d.Probes[0].Name {
				kind = "fallback"
			}
			fmt.Fprintf(out, "  probe: %s (%s)\n", d.Attached, kind)
			writeSkipped(out, d.Skipped)
		case attached:
			fmt.Fprintf(out, "  probe: none attached\n")
			writeSkipped(out, d.Skipped)
		default:
			names := make([]string, len(d.Probes))
			for i, p := range d.Probes {
				names[i] = p.Name
			}
			fmt.Fprintf(out, "  probes: would try %s\n", strings.Join(names, ", then "))
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, a := range d.Args {
			fmt.Fprintf(w, "    %s\t%s\t%s\n", a.Name, a.Type, a.Doc)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeSkipped lists why probes were passed over, one per line.
func writeSkipped(out io.Writer, skipped string) {
	for _, line := range strings.Split(skipped, "\n") {
		if line != "" {
			fmt.Fprintf(out, "    skipped %s\n", line)
		}
	}
}
