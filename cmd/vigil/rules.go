package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rules"
)

// ruleFlags select the signatures a command loads.
type ruleFlags struct {
	dirs      []string
	noBuiltin bool
}

func (f *ruleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.dirs, "rules", nil, "folder of signatures (searched recursively) or one .rego file, in addition to the shipped ones (repeatable)")
	cmd.Flags().BoolVar(&f.noBuiltin, "no-builtin", false, "do not load the signatures shipped inside vigil")
}

func (f *ruleFlags) options() rules.LoadOptions {
	return rules.LoadOptions{Builtin: !f.noBuiltin, Dirs: f.dirs}
}

// load compiles the selected signatures; a set with no signature at all is an
// error, since an engine without signatures would only waste events.
func (f *ruleFlags) load() (*rules.Set, error) {
	if f.noBuiltin && len(f.dirs) == 0 {
		return nil, errors.New("--no-builtin needs at least one --rules folder")
	}
	set, err := rules.Load(f.options())
	if err != nil {
		return nil, fmt.Errorf("loading signatures: %w", err)
	}
	if len(set.Signatures()) == 0 {
		return nil, errors.New("loading signatures: no signature found")
	}
	return set, nil
}

func newRulesCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Inspect and check signatures",
	}
	cmd.AddCommand(newRulesListCmd(), newRulesValidateCmd(), newRulesExplainCmd())
	return cmd
}

func newRulesListCmd() *cobra.Command {
	f := &ruleFlags{}
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the loaded signatures: id, name, severity, events, fast path, source file",
		Long: `list prints the loaded signatures. FAST is "yes" for a signature on the fast
path (a condition derived from its rules lets the engine skip its Rego for
events that cannot make it fire) and "no" for one that runs on every event
it selects; vigil rules explain ID says why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := f.load()
			if err != nil {
				return err
			}
			return listRules(cmd.OutOrStdout(), set, output)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func listRules(out io.Writer, set *rules.Set, format string) error {
	sigs := set.Signatures()
	switch format {
	case "json":
		type row struct {
			rules.Metadata
			File     string `json:"file"`
			Line     int    `json:"line"`
			Builtin  bool   `json:"builtin"`
			FastPath bool   `json:"fast_path"`
		}
		rows := make([]row, len(sigs))
		for i, s := range sigs {
			rows[i] = row{Metadata: s.Metadata, File: s.File, Line: s.Line, Builtin: s.Builtin, FastPath: s.FastPath()}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "text":
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSEVERITY\tEVENTS\tFAST\tFILE")
		for _, s := range sigs {
			fast := "yes"
			if !s.FastPath() {
				fast = "no"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s:%d\n", s.ID, s.Name, s.Severity, strings.Join(s.Events, ","), fast, s.File, s.Line)
		}
		return w.Flush()
	}
	return fmt.Errorf("--output %q: want text or json", format)
}

func newRulesValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Check signatures and report every problem as file:line:col",
		Long: `validate checks the signatures in the given folders (or files) the way the
engine loads them, plus their tests and fixtures, and prints every problem as
file:line:col: message. With no argument it checks the shipped signatures.
The exit status is 1 when there is any problem.`,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			for _, d := range dirs {
				if _, err := os.Stat(d); err != nil {
					return err
				}
			}
			problems := rules.Validate(dirs...)
			for _, p := range problems {
				fmt.Fprintln(cmd.OutOrStdout(), p.String())
			}
			if len(problems) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s)\n", len(problems))
				return errSilent
			}
			what := "the shipped signatures"
			if len(dirs) > 0 {
				what = strings.Join(dirs, ", ")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: no problems\n", what)
			return nil
		},
	}
	return cmd
}

func newRulesExplainCmd() *cobra.Command {
	f := &ruleFlags{}
	var output string
	cmd := &cobra.Command{
		Use:   "explain ID",
		Short: "Print the condition derived from a signature's rules and whether it is on the fast path",
		Long: `explain prints the necessary condition vigil derived from a signature's
finding rule: the events it selects and, for each, the alternatives (tests
on input fields that must all hold) one of which an event must meet to be
able to make the signature fire. The engine tests these conditions in Go and
runs the signature's Rego only for events that meet them. A signature whose
rules yield no condition runs on every event it selects; explain says why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := f.load()
			if err != nil {
				return err
			}
			sig, ok := set.Lookup(args[0])
			if !ok {
				return fmt.Errorf("no signature with id %q (vigil rules list shows them)", args[0])
			}
			return explainRule(cmd.OutOrStdout(), sig, output)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func explainRule(out io.Writer, sig *rules.Signature, format string) error {
	d := sig.Derived()
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			ID        string          `json:"id"`
			Events    []string        `json:"events"`
			FastPath  bool            `json:"fast_path"`
			Condition event.Condition `json:"condition"`
			Reason    string          `json:"reason,omitempty"`
		}{sig.ID, sig.Events, sig.FastPath(), d.Condition, d.Reason})
	case "text":
	default:
		return fmt.Errorf("--output %q: want text or json", format)
	}
	fmt.Fprintf(out, "%s (%s:%d)\nevents: %s\n", sig.ID, sig.File, sig.Line, strings.Join(sig.Events, ", "))
	if !sig.FastPath() {
		fmt.Fprintf(out, "fast path: no, every selected event runs the Rego\nwhy: %s\n", d.Reason)
		return nil
	}
	fmt.Fprintln(out, "fast path: yes, only events meeting one of these alternatives run the Rego")
	if len(d.Condition.Any) == 0 {
		fmt.Fprintln(out, "  (none: the finding rule can never hold)")
	}
	for i, alt := range d.Condition.Any {
		tests := make([]string, len(alt))
		for j, t := range alt {
			tests[j] = t.String()
		}
		fmt.Fprintf(out, "  %2d. %s\n", i+1, strings.Join(tests, "\n      and "))
	}
	return nil
}
