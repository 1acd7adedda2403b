package sensor

// publishModes are the publisher's two ways of publishing, for the tests
// and benchmarks that run both.
var publishModes = []struct {
	name string
	set  func(*PublisherOptions)
}{
	{"core", func(o *PublisherOptions) { o.NoAcks = true }},
	{"acks", func(*PublisherOptions) {}},
	{"acks-w1024", func(o *PublisherOptions) { o.AckWindow = 1024 }},
	{"acks-w32768", func(o *PublisherOptions) { o.AckWindow = 32768 }},
}
