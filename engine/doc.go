// Package engine evaluates vigil's Rego signatures on events and turns what
// they yield into findings.
//
// An Engine holds one compiled rules.Set at a time. Evaluate sends an event
// only to the signatures that select its name and whose derived condition
// it meets (rules.Matcher: the others cannot fire), converts it to Rego
// input once (rules.Input, no JSON round trip), and evaluates each
// remaining signature's prepared query under a time limit. EvaluateJSON
// does the same from an event's JSON bytes: the conditions read the fields
// they test straight from the bytes, and only an admitted event is decoded. A
// signature that errors or runs out of time is logged and counted, never
// returned as an error: the other signatures keep running. Evaluate is safe
// to call from many goroutines; Swap replaces the set atomically while
// evaluations in flight finish on the set they started with.
//
// The NATS side (serve.go), the finding outputs (output.go) and hot reload
// (reload.go) build on Engine; the engine itself owns no goroutines and
// needs no Close. The Server rebuilds lean events (process context by
// reference, event.ContextEncoder) to their full form before evaluating
// them (ctxresolve.go): a Server holds the contexts it has seen and asks
// the event's sensor for one it has not.
package engine
