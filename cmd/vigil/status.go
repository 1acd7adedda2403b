package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	var url string
	var all bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print the counters of a running sensor, engine or vigil run",
		Long: `status reads the Prometheus endpoint of a running vigil (started with
--metrics-listen) and prints its counters for a person: events received,
refused, evaluated, findings, drops and errors, the JetStream consumer's lag
and redeliveries, evaluation latency per event, and per signature the
evaluations, findings, errors and time-outs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), url, all, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&url, "metrics", "http://127.0.0.1:9464/metrics", "URL of the metrics endpoint (--metrics-listen of the running vigil)")
	cmd.Flags().BoolVar(&all, "all", false, "also list signatures that have not been evaluated")
	return cmd
}

func runStatus(ctx context.Context, url string, all bool, w io.Writer) error {
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	if !strings.HasSuffix(url, "/metrics") {
		url = strings.TrimSuffix(url, "/") + "/metrics"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reading %s (is vigil running with --metrics-listen?): %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reading %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	printStatus(w, fams, all)
	return nil
}

// printStatus prints vigil's families: plain counters and gauges as one
// aligned list per part (sensor, engine), series with labels indented under
// their name, histograms as count and mean, signatures as a table.
func printStatus(w io.Writer, fams map[string]*dto.MetricFamily, all bool) {
	names := make([]string, 0, len(fams))
	for n := range fams {
		if strings.HasPrefix(n, "vigil_") && !strings.HasPrefix(n, "vigil_signature_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		f := fams[n]
		label := strings.TrimSuffix(strings.TrimPrefix(n, "vigil_"), "_total")
		for _, m := range f.GetMetric() {
			name := label
			if ls := labelText(m); ls != "" {
				name += "{" + ls + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				fmt.Fprintf(tw, "%s\t%.0f\n", name, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				fmt.Fprintf(tw, "%s\t%g\n", name, m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				mean := 0.0
				if h.GetSampleCount() > 0 {
					mean = h.GetSampleSum() / float64(h.GetSampleCount())
				}
				fmt.Fprintf(tw, "%s\t%d evaluations, mean %s\n", name, h.GetSampleCount(), time.Duration(mean*float64(time.Second)).Round(time.Microsecond))
			}
		}
	}
	tw.Flush()

	// Signatures: one row each.
	type row struct{ evals, findings, errors, timeouts, seconds float64 }
	rows := map[string]*row{}
	get := func(fam string, set func(*row, float64)) {
		for _, m := range fams["vigil_signature_"+fam].GetMetric() {
			id := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "signature" {
					id = l.GetValue()
				}
			}
			if rows[id] == nil {
				rows[id] = &row{}
			}
			set(rows[id], m.GetCounter().GetValue())
		}
	}
	get("evaluations_total", func(r *row, v float64) { r.evals = v })
	get("findings_total", func(r *row, v float64) { r.findings = v })
	get("errors_total", func(r *row, v float64) { r.errors = v })
	get("timeouts_total", func(r *row, v float64) { r.timeouts = v })
	get("evaluation_seconds_total", func(r *row, v float64) { r.seconds = v })
	ids := make([]string, 0, len(rows))
	for id, r := range rows {
		if all || r.evals > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	sort.Strings(ids)
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "signature\tevaluations\tfindings\terrors\ttime-outs\tmean time")
	for _, id := range ids {
		r := rows[id]
		mean := time.Duration(0)
		if r.evals > 0 {
			mean = time.Duration(r.seconds / r.evals * float64(time.Second))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%s\n", id, r.evals, r.findings, r.errors, r.timeouts, mean.Round(time.Microsecond))
	}
	tw.Flush()
}

func labelText(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}
