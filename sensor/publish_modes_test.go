package sensor

// publishModes are the publisher's two ways of publishing, for the tests
// and benchmarks that run both: core NATS (the baseline) and acknowledged.
var publishModes = []struct {
	name string
	set  func(*PublisherOptions)
}{
	{"core", func(o *PublisherOptions) { o.NoAcks = true }},
	{"acks", func(*PublisherOptions) {}},
}
