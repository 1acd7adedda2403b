// Command vigil is the one vigil binary.
//
//	vigil run                  sensor + engine + an embedded NATS server, one process
//	vigil sensor --nats URL    the eBPF sensor, publishing events on NATS
//	vigil engine --nats URL    the Rego engine, turning events from NATS into findings
//	vigil capture -o FILE      record events from NATS (or a local sensor) to a file
//	vigil replay FILE...       evaluate captured events offline
//	vigil test [DIR...]        run the signatures' tests
//	vigil rules list|validate  inspect and check signatures
//	vigil events               the events the sensor emits, their arguments and probes
//
// Logs go to standard error (readable on a terminal, JSON lines otherwise);
// findings and listings go to standard output.
package main
