package busserver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// memSource feeds a wireReader from memory, in small chunks so that frame
// and line boundaries fall mid-read as they do on a socket.
type memSource struct {
	data  []byte
	chunk int
}

func (m *memSource) ReadMsgUnix(b, oob []byte) (int, int, int, *net.UnixAddr, error) {
	if len(m.data) == 0 {
		return 0, 0, 0, nil, io.EOF
	}
	n := len(b)
	if m.chunk > 0 && n > m.chunk {
		n = m.chunk
	}
	n = copy(b[:n], m.data)
	m.data = m.data[n:]
	return n, 0, 0, nil, nil
}

// FuzzDecodeMessage feeds arbitrary bytes to the framing and decoding path
// each connection uses after authentication. It must never panic or hang,
// and anything it accepts must survive our re-framing and decode again
// identically: that is the message a recipient will parse.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(helloBytes(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		wr := newWireReader(&memSource{data: data, chunk: 61})
		for i := 0; i < 64; i++ {
			fr, err := wr.readFrame(1<<20, true)
			if err != nil {
				return
			}
			of, err := reframe(fr, fr.msg.Headers)
			if err != nil {
				// Re-encoding can only fail on what the decoder let
				// through; that would be a header we then cannot route,
				// which is acceptable but must not panic.
				continue
			}
			again, err := decodeFrame(of.b, wr, true)
			if err != nil {
				t.Fatalf("re-framed message does not decode: %v\norig % x\nnew  % x", err, fr.raw, of.b)
			}
			if !bytes.Equal(again.raw[again.bodyStart:], fr.raw[fr.bodyStart:]) {
				t.Fatalf("body changed in re-framing")
			}
			if again.msg.Type != fr.msg.Type || again.msg.Serial() != fr.msg.Serial() {
				t.Fatalf("type/serial changed in re-framing")
			}
		}
	})
}

// FuzzAuth feeds arbitrary bytes to the SASL handshake. It must never
// panic, and must never accept a peer whose uid is not the sandbox's.
func FuzzAuth(f *testing.F) {
	f.Add([]byte("\x00AUTH EXTERNAL 31303030\r\nBEGIN\r\n"))
	f.Add([]byte("\x00AUTH\r\nAUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, peer := range []int{1000, 1001} {
			a := &saslServer{wantUID: 1000, peerUID: peer, guid: "0123456789abcdef0123456789abcdef"}
			wr := newWireReader(&memSource{data: data, chunk: 7})
			var out bytes.Buffer
			_, err := runAuth(a, wr, func(s string) error {
				out.WriteString(s)
				return nil
			})
			if err == nil && peer != 1000 {
				t.Fatalf("authenticated a peer with the wrong uid")
			}
			if err == nil && a.state != authDone {
				t.Fatalf("runAuth returned before BEGIN")
			}
			if err != nil && !errors.Is(err, errProtocol) && !errors.Is(err, errAuthRejected) && !errors.Is(err, io.EOF) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if out.Len() > 64*1024 {
				t.Fatalf("handshake produced %d bytes of replies", out.Len())
			}
		}
	})
}
