package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-sec/vigil/engine"
)

// errSilent marks an error whose message has already been shown to the user
// (a failed test run, a list of rule problems): main only sets the exit code.
var errSilent = errors.New("failed")

type globalFlags struct {
	logLevel    string
	logFormat   string
	cpuProfile  string
	heapProfile string
}

// stopCPUProfile ends --cpu-profile's profile once the command returns,
// whether it failed or not.
var stopCPUProfile = func() {}

// writeHeapProfile writes --heap-profile's profile once the command returns.
var writeHeapProfile = func() {}

func main() {
	engine.TuneGC()
	os.Exit(execute(os.Args[1:]))
}

func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	stopCPUProfile()
	stopCPUProfile = func() {}
	writeHeapProfile()
	writeHeapProfile = func() {}
	if err == nil {
		return 0
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintln(os.Stderr, "vigil:", err)
	}
	return 1
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Runtime security detection for Linux: eBPF events, Rego signatures, NATS",
		Long: `vigil turns kernel activity into typed events with an eBPF sensor, publishes
them on NATS, evaluates Rego signatures on them and publishes the findings on NATS.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console, json")
	pf.StringVar(&g.cpuProfile, "cpu-profile", "", "write a Go CPU profile of the command to this file (read it with go tool pprof), for reporting where vigil spends its time")
	pf.StringVar(&g.heapProfile, "heap-profile", "", "write a Go heap profile (what is live, and what was allocated) to this file when the command returns")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.heapProfile != "" {
			f, err := os.Create(g.heapProfile)
			if err != nil {
				return fmt.Errorf("--heap-profile: %w", err)
			}
			writeHeapProfile = func() {
				runtime.GC() // what is live at the end, not at the last collection
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpu-profile %s: %w", g.cpuProfile, err)
		}
		stopCPUProfile = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
		return nil
	}

	root.AddCommand(
		newRunCmd(g),
		newSensorCmd(g),
		newEngineCmd(g),
		newCaptureCmd(g),
		newReplayCmd(g),
		newTestCmd(g),
		newRulesCmd(g),
		newEventsCmd(g),
		newStatusCmd(g),
	)
	return root
}

// logger builds the process logger from the global flags. Logs go to stderr.
func (g *globalFlags) logger() (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(g.logLevel)
	if err != nil || g.logLevel == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", g.logLevel)
	}
	var console bool
	switch g.logFormat {
	case "auto":
		console = term.IsTerminal(int(os.Stderr.Fd()))
	case "console":
		console = true
	case "json":
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want auto, console or json", g.logFormat)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	var log zerolog.Logger
	if console {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"})
	} else {
		log = zerolog.New(os.Stderr)
	}
	return log.Level(level).With().Timestamp().Logger(), nil
}

// hostname is the host name events and findings are labelled with by default.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// isTerminal tells whether f is a terminal.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
