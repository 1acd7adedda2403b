package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/engine"
)

// outputFlags say where findings are printed.
type outputFlags struct {
	format string
	file   string
	color  string
}

func (f *outputFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.format, "output", "o", "text", "findings on standard output: text (one readable line each), json (JSON lines, as on NATS) or none")
	fs.StringVar(&f.file, "output-file", "", "also append findings as JSON lines to this file")
	fs.StringVar(&f.color, "color", "auto", "colour the text output: auto (on a terminal), always, never")
}

// open builds the outputs. stdout is where the text or JSON lines go.
func (f *outputFlags) open(stdout io.Writer) (engine.Output, error) {
	var outs engine.Outputs
	if f.format != "none" {
		color := false
		switch f.color {
		case "always":
			color = true
		case "auto":
			if file, ok := stdout.(*os.File); ok {
				color = isTerminal(file) && os.Getenv("NO_COLOR") == ""
			}
		}
		o, err := engine.NewOutput(stdout, f.format, color)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if f.file != "" {
		o, err := engine.OpenFileOutput(f.file)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}
