package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/rules"
)

func newTestCmd(g *globalFlags) *cobra.Command {
	var (
		opts    rules.TestOptions
		builtin bool
		verbose bool
		output  string
	)
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run the signatures' tests: Rego test_ rules and fixture files",
		Long: `test runs every test of the signatures in the given folders (or files), or of
the shipped signatures when none is given: the test_ rules of *_test.rego files,
as opa test runs them with the engine's built-ins, and the cases of
*.fixtures.jsonl files (events and the findings they must or must not produce).
Failures show the signature, the test and what differed. The exit status is 1
when a test fails, when the rules do not load, or when there is no test at all.`,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			for _, d := range dirs {
				if _, err := os.Stat(d); err != nil {
					return err
				}
			}
			opts.Dirs = dirs
			opts.Builtin = len(dirs) == 0 || builtin
			report, err := rules.RunTests(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("running tests: %w", err)
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else {
				for _, r := range report.Results {
					if verbose || (!r.Pass && !r.Skip) {
						fmt.Fprintln(out, r.String())
					}
				}
				for _, id := range report.Untested {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: signature %s has no test\n", id)
				}
				status := "ok"
				if !report.OK() {
					status = "FAIL"
				}
				fmt.Fprintf(out, "%s: %d passed, %d failed, %d skipped\n", status, report.Passed, report.Failed, report.Skipped)
			}
			if !report.OK() {
				return errSilent
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Run, "run", "", "run only the tests and fixture cases whose name matches this regular expression")
	fs.DurationVar(&opts.Timeout, "timeout", 0, fmt.Sprintf("time limit of each test (default %s)", rules.DefaultTestTimeout))
	fs.BoolVar(&builtin, "builtin", false, "with folders given, also run the shipped signatures' tests")
	fs.BoolVarP(&verbose, "verbose", "v", false, "list every test, not only the failures")
	fs.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
