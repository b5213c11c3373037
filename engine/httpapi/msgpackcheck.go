package httpapi

import "fmt"

// Bounds on a msgpack request body, checked before it is decoded. A
// request is a map of a few dozen fields nested a few levels deep (a chip
// spec, input settings, limits); a model file is one bin or str value.
const (
	// maxMsgpackDepth bounds the nesting of maps and arrays.
	maxMsgpackDepth = 32
	// maxMsgpackValues bounds the values (map keys and elements, array
	// elements) a body may hold: decoding gives each 16 bytes or more (an
	// empty map some 50), so this keeps a body's decoded form to a few MB
	// whatever it declares; a request holds a few hundred.
	maxMsgpackValues = 1 << 16
)

// checkMsgpack walks one msgpack value in data without decoding or
// allocating anything, and refuses a body whose declared lengths exceed
// the bytes it holds, that nests deeper than maxMsgpackDepth, holds more
// than maxMsgpackValues values or has bytes after its value. The decoder
// sizes its slices and maps by the declared lengths, so a 19-byte body
// that declares an array of 4 billion elements would otherwise allocate
// tens of GB before it finds the body short.
func checkMsgpack(data []byte) error {
	var open [maxMsgpackDepth + 1]int64 // values still to read in each open container
	depth := 0
	open[0] = 1
	values := int64(0)
	pos := 0
	for depth >= 0 {
		if open[depth] == 0 {
			depth--
			continue
		}
		open[depth]--
		if pos >= len(data) {
			return fmt.Errorf("the msgpack body ends at byte %d inside a value: send the whole request", pos)
		}
		at := pos
		b := data[pos]
		pos++
		size, elems := int64(0), int64(0) // bytes of payload to skip; values of a container
		container := false
		switch {
		case b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3: // fixint, nil, bool
		case b&0xf0 == 0x80: // fixmap
			elems, container = 2*int64(b&0x0f), true
		case b&0xf0 == 0x90: // fixarray
			elems, container = int64(b&0x0f), true
		case b&0xe0 == 0xa0: // fixstr
			size = int64(b & 0x1f)
		default:
			n, ok := int64(0), true
			switch b {
			case 0xcc, 0xd0:
				size = 1
			case 0xcd, 0xd1:
				size = 2
			case 0xca, 0xce, 0xd2:
				size = 4
			case 0xcb, 0xcf, 0xd3:
				size = 8
			case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: a type byte and the data
				size = 1 + int64(1)<<(b-0xd4)
			case 0xc4, 0xd9: // bin 8, str 8
				n, pos, ok = msgpackLength(data, pos, 1)
				size = n
			case 0xc5, 0xda: // bin 16, str 16
				n, pos, ok = msgpackLength(data, pos, 2)
				size = n
			case 0xc6, 0xdb: // bin 32, str 32
				n, pos, ok = msgpackLength(data, pos, 4)
				size = n
			case 0xc7, 0xc8, 0xc9: // ext 8, 16, 32: a length, a type byte and the data
				n, pos, ok = msgpackLength(data, pos, 1<<(b-0xc7))
				size = n + 1
			case 0xdc:
				n, pos, ok = msgpackLength(data, pos, 2)
				elems, container = n, true
			case 0xdd:
				n, pos, ok = msgpackLength(data, pos, 4)
				elems, container = n, true
			case 0xde:
				n, pos, ok = msgpackLength(data, pos, 2)
				elems, container = 2*n, true
			case 0xdf:
				n, pos, ok = msgpackLength(data, pos, 4)
				elems, container = 2*n, true
			case 0xc1:
				return fmt.Errorf("the msgpack body holds the never-used byte 0xc1 at byte %d: it is not msgpack", at)
			}
			if !ok {
				return fmt.Errorf("the msgpack body ends at byte %d inside the length of the value at byte %d: send the whole request", len(data), at)
			}
		}
		rest := int64(len(data) - pos)
		if size > rest {
			return fmt.Errorf("the msgpack body declares a value of %d bytes at byte %d but holds only %d more bytes: the body is cut short or not msgpack", size, at, rest)
		}
		pos += int(size)
		if !container {
			continue
		}
		if elems > rest { // every value takes at least one byte
			return fmt.Errorf("the msgpack body declares a container of %d values at byte %d but holds only %d more bytes: the body is cut short or not msgpack", elems, at, rest)
		}
		if values += elems; values > maxMsgpackValues {
			return fmt.Errorf("the msgpack body holds over %d values (map keys and elements, array elements): a request needs far fewer; send a model file as one bin value", maxMsgpackValues)
		}
		if depth+1 > maxMsgpackDepth {
			return fmt.Errorf("the msgpack body nests maps and arrays over %d deep (at byte %d): a request nests a few levels", maxMsgpackDepth, at)
		}
		depth++
		open[depth] = elems
	}
	if pos != len(data) {
		return fmt.Errorf("unexpected data after the request's msgpack map (byte %d of %d): send one map", pos, len(data))
	}
	return nil
}

// msgpackLength reads a big-endian length of width bytes at pos. ok is
// false, and the position past the end, when the body ends inside it.
func msgpackLength(data []byte, pos, width int) (n int64, next int, ok bool) {
	if len(data)-pos < width {
		return 0, len(data) + 1, false
	}
	for _, c := range data[pos : pos+width] {
		n = n<<8 | int64(c)
	}
	return n, pos + width, true
}
