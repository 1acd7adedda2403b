// Package jsonscan skips JSON values without decoding them: the scanner
// the rule matcher's planned reading and the event package's process
// context references share. It checks that strings end and brackets
// balance, not the rest of the grammar: callers that need the grammar
// checked decode what they keep.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// WS returns the index of the first byte at or after i that is not JSON
// white space.
func WS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// String returns the index after the string at data[i] ('"'), eight
// bytes at a time: a word without a quote or a backslash is inside the
// string; a backslash escapes the byte after it (a quote is escaped when
// an odd number of backslashes precede it).
func String(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	j := i + 1
	for j+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[j:])
		m := EqMask(x, '"') | EqMask(x, '\\')
		if m == 0 {
			j += 8
			continue
		}
		k := j + bits.TrailingZeros64(m)>>3
		if data[k] == '"' {
			return k + 1, true
		}
		j = k + 2
	}
	for j < len(data) {
		switch data[j] {
		case '"':
			return j + 1, true
		case '\\':
			j += 2
			continue
		}
		j++
	}
	return 0, false
}

// Value returns the index after the value at data[i].
func Value(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		return String(data, i)
	case c == '{' || c == '[':
		return Container(data, i)
	default:
		// a number, true, false or null: a quote or an opening bracket
		// in it is malformed (the word-at-a-time skipper would read a
		// string or a container from there, and the two would disagree)
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j, j > i
			case '"', '{', '[':
				return 0, false
			}
			j++
		}
		return j, j > i
	}
}

// LSB and MSB are the lowest and the highest bit of every byte of a word,
// for the word-at-a-time tests (EqMask).
const (
	LSB  = 0x0101010101010101
	MSB  = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
)

// EqMask marks (high bit of each byte) the bytes of x equal to c.
func EqMask(x uint64, c byte) uint64 {
	y := x ^ (LSB * uint64(c))
	return ^(((y & low7) + low7) | y) & MSB
}

// Container returns the index after the object or array at data[i],
// eight bytes at a time: the quotes of a word tell which of its bytes lie
// inside strings (a running parity), and only brackets outside strings
// count. A word with a backslash, and the last few bytes, go byte by byte.
// Like the byte-by-byte scanner, it checks that strings end and brackets
// balance, not the rest of the grammar.
func Container(data []byte, i int) (int, bool) {
	n := len(data)
	depth := 0
	var inStr uint64 // MSB when the word starts inside a string
	j := i
	for j+8 <= n {
		x := binary.LittleEndian.Uint64(data[j:])
		if EqMask(x, '\\') != 0 {
			break
		}
		q := EqMask(x, '"')
		if q == 0 && inStr != 0 {
			j += 8
			continue
		}
		// '[' and ']' are '{' and '}' without the 0x20 bit
		y := x | (LSB * 0x20)
		m := EqMask(y, '{') | EqMask(y, '}')
		// bytes after an odd number of quotes (counting the word's start)
		p := q
		p ^= p << 8
		p ^= p << 16
		p ^= p << 32
		s := p ^ inStr
		for m &^= s; m != 0; m &= m - 1 {
			k := j + bits.TrailingZeros64(m)>>3
			if data[k]|0x20 == '{' {
				depth++
				continue
			}
			depth--
			if depth == 0 {
				return k + 1, true
			}
		}
		inStr = (s >> 63) * MSB
		j += 8
	}
	in := inStr != 0
	for ; j < n; j++ {
		c := data[j]
		if in {
			switch c {
			case '\\':
				j++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}
