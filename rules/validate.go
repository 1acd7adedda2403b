package rules

import "github.com/vigil-sec/vigil/event"

// ValidateEvent reports whether data is an event, exactly as DecodeEvent
// would (nil when DecodeEvent decodes it, DecodeEvent's error otherwise),
// without building it: an event in the producer's plain layout is walked
// by DecodeEvent's own reader, which checks every key, type, number,
// time and argument as when decoding but keeps no copies of strings, argv
// or ancestors; anything else goes to DecodeEvent itself. It is for
// events nothing will read (an event no signature admits, still checked
// so that a malformed one is reported). TestValidateEventAgrees and
// FuzzValidateEvent hold it to DecodeEvent.
func ValidateEvent(data []byte) error {
	if validFast(data) {
		return nil
	}
	_, err := DecodeEvent(data)
	return err
}

// validFast is decodeFast's verdict without its event.
func validFast(data []byte) bool {
	var ev event.Event
	return decodePlain(data, &ev, true)
}
