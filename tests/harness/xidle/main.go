// Command xidle waits until an X client has handled every event sent to its
// window before now: it sends the window an EWMH _NET_WM_PING and waits for
// the client's answer, which toolkits send from their event loop (GDK 3
// and 4, Qt), so in order after any key press delivered before the ping.
// Tests run it inside a sandbox, on the nested display, to tell "the
// application has not taken my key yet" from "it took the key and did
// nothing", without guessing with sleeps.
//
//	xidle WINDOW [TIMEOUT]
//
// WINDOW is a decimal or 0x window id (xdotool's output); TIMEOUT a Go
// duration (default 60s). Exit 0 when answered, 1 when not in time, 2 on
// a usage or connection error.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func main() {
	xgb.Logger.SetOutput(io.Discard) // its notes on a missing ~/.Xauthority
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: xidle WINDOW [TIMEOUT]")
		os.Exit(2)
	}
	id, err := strconv.ParseUint(os.Args[1], 0, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xidle: window %q: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	timeout := 60 * time.Second
	if len(os.Args) == 3 {
		if timeout, err = time.ParseDuration(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "xidle: timeout: %v\n", err)
			os.Exit(2)
		}
	}
	if err := ping(xproto.Window(id), timeout); err != nil {
		fmt.Fprintf(os.Stderr, "xidle: %v\n", err)
		if err == errTimeout {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

var errTimeout = fmt.Errorf("no answer to _NET_WM_PING in time")

func atom(c *xgb.Conn, name string) (xproto.Atom, error) {
	r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
	if err != nil {
		return 0, fmt.Errorf("intern %s: %w", name, err)
	}
	return r.Atom, nil
}

func ping(win xproto.Window, timeout time.Duration) error {
	c, err := xgb.NewConn()
	if err != nil {
		return err
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	protocols, err := atom(c, "WM_PROTOCOLS")
	if err != nil {
		return err
	}
	netWMPing, err := atom(c, "_NET_WM_PING")
	if err != nil {
		return err
	}
	// The client answers by sending the message back to the root window
	// with SubstructureNotify|SubstructureRedirect (EWMH, _NET_WM_PING):
	// any client that selected SubstructureNotify on the root receives it.
	if err := xproto.ChangeWindowAttributesChecked(c, root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskSubstructureNotify}).Check(); err != nil {
		return fmt.Errorf("select on the root window: %w", err)
	}
	// A serial of our own in the timestamp field (clients echo data
	// unchanged), so an answer to someone else's ping does not count.
	stamp := uint32(time.Now().UnixNano()&0x7fffffff) | 1
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: win,
		Type:   protocols,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{uint32(netWMPing), stamp, uint32(win), 0, 0}),
	}
	if err := xproto.SendEventChecked(c, false, win, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("send _NET_WM_PING to 0x%x: %w", win, err)
	}
	events := make(chan xgb.Event)
	go func() {
		for {
			e, err := c.WaitForEvent()
			if e == nil && err == nil {
				close(events)
				return
			}
			if e != nil {
				events <- e
			}
		}
	}()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return fmt.Errorf("the X connection closed")
			}
			m, isMsg := e.(xproto.ClientMessageEvent)
			if !isMsg || m.Type != protocols || m.Format != 32 {
				continue
			}
			d := m.Data.Data32
			if xproto.Atom(d[0]) == netWMPing && d[1] == stamp && xproto.Window(d[2]) == win {
				return nil
			}
		case <-deadline:
			return errTimeout
		}
	}
}
