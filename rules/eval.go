package rules

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// ErrBadFinding is wrapped by Eval when a signature yields a finding that is
// not an object.
var ErrBadFinding = errors.New("finding is not an object")

// ErrPanic is wrapped by Eval when the evaluator panicked.
var ErrPanic = errors.New("panic during evaluation")

// neverCancelled is handed to evaluations whose context cannot be cancelled,
// so OPA does not start a goroutine per evaluation to watch it.
var neverCancelled = topdown.NewCancel()

// noMetrics spares every evaluation the metrics map OPA would otherwise
// allocate; the engine keeps its own counters.
var noMetrics = metrics.NoOp()

// Eval evaluates the signature on one event, given as Input(ev), and
// returns the fields of every finding it yields (nil when none). It honours
// ctx's deadline: an evaluation that runs past it stops and returns an
// error wrapping context.DeadlineExceeded. Errors name the signature and,
// for Rego errors, the place in its source.
//
// Eval does not look at the event name: callers send a signature only the
// events it selects (Set.ForEvent, Signature.Selects). It runs the Rego
// whatever the derived condition says (the engine consults Set.Matcher
// first).
func (s *Signature) Eval(ctx context.Context, input ast.Value) (findings []map[string]any, err error) {
	// A panic inside the evaluator on some odd input must cost one
	// evaluation, not the engine.
	defer func() {
		if r := recover(); r != nil {
			findings, err = nil, fmt.Errorf("signature %s: %w: %v", s.ID, ErrPanic, r)
		}
	}()
	cancel := neverCancelled
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("signature %s: %w", s.ID, err)
		}
		cancel = topdown.NewCancel()
		stop := context.AfterFunc(ctx, cancel.Cancel)
		defer stop()
	}
	rs, err := s.query.Eval(ctx, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancel), rego.EvalMetrics(noMetrics))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && topdown.IsCancel(err) {
			return nil, fmt.Errorf("signature %s: evaluation stopped: %w", s.ID, ctxErr)
		}
		return nil, fmt.Errorf("signature %s: %w", s.ID, err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	out := make([]map[string]any, 0, len(rs))
	for _, r := range rs {
		v := r.Bindings[findingVar]
		fields, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("signature %s: %w: got %T", s.ID, ErrBadFinding, v)
		}
		out = append(out, fields)
	}
	return out, nil
}
