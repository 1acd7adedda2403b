package event

import (
	"encoding/json"
	"strings"
)

// Subject prefixes. Subjects run broad to narrow: vigil.<kind>.<what>.<host>,
// so a consumer can take everything (vigil.>), one kind (vigil.findings.>), one
// event or signature on every host (vigil.events.execve.*), or one host.
const (
	SubjectRoot    = "vigil"
	EventsPrefix   = SubjectRoot + ".events"
	FindingsPrefix = SubjectRoot + ".findings"
	AllEvents      = EventsPrefix + ".>"
	AllFindings    = FindingsPrefix + ".>"
)

// EventSubject is the subject an event is published on: vigil.events.<event>.<host>.
func EventSubject(eventName, host string) string {
	return EventsPrefix + "." + Token(eventName) + "." + Token(host)
}

// FindingSubject is the subject a finding is published on:
// vigil.findings.<signature-id>.<host>.
func FindingSubject(signatureID, host string) string {
	return FindingsPrefix + "." + Token(signatureID) + "." + Token(host)
}

// ContextSubject is where a sensor answers requests for the process
// contexts it sent (vigil.context.<host>; the request's data is the key,
// the answer the full process object, or an empty message with a
// Vigil-Error header when the sensor no longer has it).
func ContextSubject(host string) string {
	return SubjectRoot + ".context." + Token(host)
}

// ContextErrorHeader is the header of a sensor's empty answer on
// ContextSubject when it does not have the context asked for; its value
// says why.
const ContextErrorHeader = "Vigil-Error"

// Token makes s safe as one NATS subject token: dots, wildcards and white
// space become '_', and an empty string becomes "_".
func Token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}

// SubjectHost is the host an event came from, as a subject token: its
// subject's last token (vigil.events.<event>.<host>), or else its "host"
// member.
func SubjectHost(subject string, data []byte) string {
	if rest, ok := strings.CutPrefix(subject, EventsPrefix+"."); ok {
		if _, host, ok := strings.Cut(rest, "."); ok && host != "" && !strings.Contains(host, ".") {
			return host
		}
	}
	var h struct {
		Host string `json:"host"`
	}
	_ = json.Unmarshal(data, &h) // no host: "_"
	return Token(h.Host)
}
