package busserver

import (
	"encoding/binary"
	"fmt"
)

// Decoding cost, measured: godbus turns every value into a Go value through
// reflection, one allocation or more per element. On this machine, decoding
// 1 MiB of wire data allocated 31x its size for an ay, 35x for an a(yy), 45x
// for an aay and 63x for an av of bytes (776 ms of CPU for that one), 12x
// for an a{sv}. A sandbox sending such messages as fast as it could grew
// the broker that every sandbox shares to 2.37 GB.
//
// So before godbus sees a message, scanMessage walks it without allocating,
// following the signature exactly as the decoder will, and estimates what
// the decoder would allocate. The broker refuses a message whose estimate
// exceeds Limits.MaxDecodeCost (the connection is closed, as for any
// malformed message), and charges the estimate to the sandbox's budget
// (budget.go) before decoding it. The scan validates only the structure it
// needs (lengths, alignment, nesting); godbus still validates everything
// else, so the scan can only make the broker stricter, never laxer.
//
// The per-value figures below are upper estimates of the measured
// allocation per element (budget_test.go checks them against godbus).
const (
	costContainer = 192 // an array, a struct: a reflect.Value slice or []any, grown by appending
	costVariant   = 224 // a dbus.Variant boxed into an any, plus its parsed signature
	costDictEntry = 96  // a map entry set through reflection
	costString    = 112 // a string header, boxed, plus the batch the bytes are copied into
	costBasic     = 32  // a boxed number; in an array also the growing typed slice
)

// maxHeaderFields bounds the header-field array. Every header the
// specification defines is at most a few hundred bytes; an attacker's
// header is decoded like a body (a(yv)) and would amplify the same way.
const maxHeaderFields = 64 << 10

// maxScanDepth is the specification's limit on nesting: 32 arrays plus 32
// structs. godbus counts both together against 64.
const maxScanDepth = 64

var sigVariant = []byte("v")

// scanner walks wire data. pos is relative to the start of the message:
// D-Bus alignment is relative to it.
type scanner struct {
	b     []byte
	order binary.ByteOrder
	pos   int
	cost  int64
	limit int64
}

var errScanTruncated = fmt.Errorf("value runs past the end of the message: %w", errProtocol)

func (s *scanner) align(n int) error {
	p := (s.pos + n - 1) &^ (n - 1)
	if p > len(s.b) {
		return errScanTruncated
	}
	s.pos = p
	return nil
}

func (s *scanner) skip(n int) error {
	if n < 0 || n > len(s.b)-s.pos {
		return errScanTruncated
	}
	s.pos += n
	return nil
}

func (s *scanner) u32() (uint32, error) {
	if err := s.align(4); err != nil {
		return 0, err
	}
	if len(s.b)-s.pos < 4 {
		return 0, errScanTruncated
	}
	v := s.order.Uint32(s.b[s.pos:])
	s.pos += 4
	return v, nil
}

// add charges n to the estimate and stops the walk as soon as the limit
// is passed: a hostile message is refused after a bounded amount of work.
func (s *scanner) add(n int64) error {
	s.cost += n
	if s.cost > s.limit {
		return errDecodeTooCostly
	}
	return nil
}

var errDecodeTooCostly = fmt.Errorf("decoding the message would allocate too much: %w", errProtocol)

// completeType returns the end of the single complete type starting at
// sig[i].
func completeType(sig []byte, i int) (int, error) {
	if i >= len(sig) {
		return 0, fmt.Errorf("signature %q ends inside a type: %w", sig, errProtocol)
	}
	switch sig[i] {
	case 'y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 'h', 's', 'o', 'g', 'v':
		return i + 1, nil
	case 'a':
		return completeType(sig, i+1)
	case '(', '{':
		closer := byte(')')
		if sig[i] == '{' {
			closer = '}'
		}
		j := i + 1
		for j < len(sig) && sig[j] != closer {
			e, err := completeType(sig, j)
			if err != nil {
				return 0, err
			}
			j = e
		}
		if j >= len(sig) || j == i+1 {
			return 0, fmt.Errorf("signature %q has an unterminated or empty container: %w", sig, errProtocol)
		}
		return j + 1, nil
	}
	return 0, fmt.Errorf("signature %q has an unknown type code %q: %w", sig, sig[i], errProtocol)
}

func basicSize(c byte) int {
	switch c {
	case 'y':
		return 1
	case 'n', 'q':
		return 2
	case 'b', 'i', 'u', 'h':
		return 4
	case 'x', 't', 'd':
		return 8
	}
	return 0
}

func typeAlign(c byte) int {
	switch c {
	case 'y', 'g', 'v':
		return 1
	case 'n', 'q':
		return 2
	case 'x', 't', 'd', '(', '{':
		return 8
	}
	return 4 // b i u h s o a
}

// value walks one value of the complete type sig, inArray telling whether
// it is an element of an array (which godbus appends to a typed slice).
func (s *scanner) value(sig []byte, depth int, inArray bool) error {
	if depth > maxScanDepth {
		return fmt.Errorf("message nests deeper than %d: %w", maxScanDepth, errProtocol)
	}
	c := sig[0]
	if err := s.align(typeAlign(c)); err != nil {
		return err
	}
	if n := basicSize(c); n > 0 {
		cost := int64(costBasic)
		if inArray {
			cost += int64(4 * n)
		}
		if err := s.add(cost); err != nil {
			return err
		}
		return s.skip(n)
	}
	switch c {
	case 's', 'o':
		n, err := s.u32()
		if err != nil {
			return err
		}
		if err := s.skip(int(n) + 1); err != nil {
			return err
		}
		return s.add(costString + int64(n))
	case 'g':
		if err := s.skip(1); err != nil {
			return err
		}
		n := int(s.b[s.pos-1])
		if err := s.skip(n + 1); err != nil {
			return err
		}
		return s.add(costString + int64(n))
	case 'v':
		if err := s.skip(1); err != nil {
			return err
		}
		n := int(s.b[s.pos-1])
		start := s.pos
		if err := s.skip(n + 1); err != nil {
			return err
		}
		inner := s.b[start : start+n]
		if n == 0 {
			return fmt.Errorf("variant with an empty signature: %w", errProtocol)
		}
		if end, err := completeType(inner, 0); err != nil || end != n {
			return fmt.Errorf("variant signature %q is not one complete type: %w", inner, errProtocol)
		}
		if err := s.add(costVariant + int64(n)); err != nil {
			return err
		}
		return s.value(inner, depth+1, false)
	case 'a':
		n, err := s.u32()
		if err != nil {
			return err
		}
		if int64(n) > int64(len(s.b)-s.pos) {
			return errScanTruncated
		}
		if err := s.add(costContainer); err != nil {
			return err
		}
		elem := sig[1:]
		// Elements of structs and dict entries start 8-aligned, even
		// when the array is empty.
		if err := s.align(typeAlign(elem[0])); err != nil {
			return err
		}
		end := s.pos + int(n)
		if end > len(s.b) {
			return errScanTruncated
		}
		if size := basicSize(elem[0]); size > 0 {
			// Numbers are contiguous: count them instead of walking a
			// megabyte of bytes one by one (the decoder reads up to the
			// first element boundary at or past the end, as here).
			k := (int(n) + size - 1) / size
			if err := s.add(int64(k) * int64(costBasic+4*size)); err != nil {
				return err
			}
			return s.skip(k * size)
		}
		for s.pos < end {
			if elem[0] == '{' {
				if err := s.dictEntry(elem, depth+1); err != nil {
					return err
				}
				continue
			}
			if err := s.value(elem, depth+1, true); err != nil {
				return err
			}
		}
		return nil
	case '(':
		if err := s.add(costContainer); err != nil {
			return err
		}
		return s.fields(sig[1:len(sig)-1], depth+1)
	}
	return fmt.Errorf("unexpected type code %q: %w", c, errProtocol)
}

func (s *scanner) dictEntry(sig []byte, depth int) error {
	if err := s.align(8); err != nil {
		return err
	}
	if err := s.add(costDictEntry); err != nil {
		return err
	}
	return s.fields(sig[1:len(sig)-1], depth+1)
}

// fields walks a sequence of complete types (a struct's, or a body's).
func (s *scanner) fields(sig []byte, depth int) error {
	for i := 0; i < len(sig); {
		e, err := completeType(sig, i)
		if err != nil {
			return err
		}
		if err := s.value(sig[i:e], depth, false); err != nil {
			return err
		}
		i = e
	}
	return nil
}

// scanMessage walks a complete, length-checked message (header fields and
// body) and returns the estimated allocation of decoding it with godbus.
// It fails without allocating once the estimate passes limit.
func scanMessage(raw []byte, order binary.ByteOrder, limit int64) (int64, error) {
	fieldsLen := order.Uint32(raw[12:16])
	if fieldsLen > maxHeaderFields {
		return 0, fmt.Errorf("header fields of %d bytes: %w", fieldsLen, errProtocol)
	}
	s := &scanner{b: raw, order: order, pos: 16, limit: limit}
	fieldsEnd := 16 + int(fieldsLen)
	if fieldsEnd > len(raw) {
		return 0, errScanTruncated
	}
	// The header is decoded as a(yv): walk it as such, remembering where
	// the SIGNATURE field's value is.
	var bodySig []byte
	if err := s.add(costContainer); err != nil {
		return 0, err
	}
	for s.pos < fieldsEnd {
		if err := s.align(8); err != nil {
			return 0, err
		}
		if err := s.skip(1); err != nil {
			return 0, err
		}
		code := s.b[s.pos-1]
		if err := s.add(costContainer); err != nil {
			return 0, err
		}
		vstart := s.pos
		if err := s.value(sigVariant, 1, false); err != nil {
			return 0, err
		}
		// A SIGNATURE field is a variant of type g: 1 'g' 0 len sig 0.
		if code == 8 && s.pos-vstart >= 4 && raw[vstart] == 1 && raw[vstart+1] == 'g' {
			n := int(raw[vstart+3])
			if vstart+4+n <= s.pos {
				bodySig = raw[vstart+4 : vstart+4+n]
			}
		}
	}
	bodyStart := int(align8(uint64(fieldsEnd)))
	if bodyStart > len(raw) {
		return 0, errScanTruncated
	}
	s.pos = bodyStart
	if err := s.fields(bodySig, 0); err != nil {
		return 0, err
	}
	return s.cost, nil
}
