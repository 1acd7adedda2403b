package sensor

import (
	"math/bits"
	"sync"
)

// bufferPool keeps the byte slices of events the publisher is done with
// (delivered, spooled or counted lost) for the JSON of the next ones:
// memory the process has touched already, rather than fresh memory from
// the collector on every event (which the profile of BenchmarkSensorDelivered
// showed as page faults in copying each event's bytes, and garbage to
// collect). It is bounded: beyond maxPooledBytes a slice is left to the
// collector.
type bufferPool struct {
	mu    sync.Mutex
	free  [numBufferClasses][][]byte
	bytes int
}

// Size classes: four per power of two (waste under 25%), from 256 bytes to
// 64 KiB; larger events are allocated as they come.
const (
	minBufferShift   = 8
	maxBufferShift   = 16
	numBufferClasses = 1 + (maxBufferShift-minBufferShift)*4
	maxPooledBytes   = 8 << 20
)

// eventBuffers is the pool of the process's publishers.
var eventBuffers bufferPool

// bufferClass is the smallest class that holds n bytes, and its size; -1
// when n is beyond the largest.
func bufferClass(n int) (int, int) {
	if n <= 1<<minBufferShift {
		return 0, 1 << minBufferShift
	}
	if n > 1<<maxBufferShift {
		return -1, n
	}
	// n in (2^(k-1), 2^k]: classes 2^(k-1) * 5/4, 6/4, 7/4, 8/4
	k := bits.Len(uint(n - 1))
	quarter := 1 << (k - 3)
	sub := (n - 1 - 1<<(k-1)) / quarter // 0..3
	return 1 + (k-1-minBufferShift)*4 + sub, 1<<(k-1) + (sub+1)*quarter
}

// get returns an empty slice with room for n bytes.
func (p *bufferPool) get(n int) []byte {
	c, size := bufferClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	p.mu.Lock()
	if k := len(p.free[c]); k > 0 {
		b := p.free[c][k-1]
		p.free[c][k-1] = nil
		p.free[c] = p.free[c][:k-1]
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	return make([]byte, 0, size)
}

// put takes back a slice from get that nothing refers to any more.
func (p *bufferPool) put(b []byte) {
	c, size := bufferClass(cap(b))
	if c < 0 || cap(b) != size {
		return // not one of get's
	}
	p.mu.Lock()
	if p.bytes+size <= maxPooledBytes {
		p.free[c] = append(p.free[c], b)
		p.bytes += size
	}
	p.mu.Unlock()
}
