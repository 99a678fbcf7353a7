package busserver

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// SASL limits: the handshake is a few short lines; anything bigger is not a
// D-Bus client.
const (
	maxAuthLine     = 1024
	maxAuthLines    = 32
	maxAuthFailures = 8
)

var errAuthRejected = errors.New("authentication rejected")

type authState int

const (
	authWaitAuth  authState = iota // expecting AUTH
	authWaitData                   // sent DATA, expecting the EXTERNAL identity
	authWaitBegin                  // sent OK, expecting BEGIN or NEGOTIATE_UNIX_FD
	authDone
)

// saslServer is the server side of the D-Bus SASL handshake, restricted to
// the EXTERNAL mechanism. Identity comes from SO_PEERCRED, never from what
// the client claims: the claim may only narrow it (a claim that differs
// from the kernel's answer is refused).
type saslServer struct {
	wantUID  int
	peerUID  int
	guid     string
	state    authState
	unixFD   bool
	lines    int
	failures int
}

// step consumes one line (without CRLF) and returns the reply to send
// (without CRLF; empty for none). A non-nil error means: send the reply if
// any, then close the connection.
func (a *saslServer) step(line []byte) (reply string, err error) {
	a.lines++
	if a.lines > maxAuthLines {
		return "", fmt.Errorf("too many authentication lines: %w", errProtocol)
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("non-printable byte in authentication line: %w", errProtocol)
		}
	}
	cmd, arg, _ := bytes.Cut(line, []byte(" "))
	switch string(cmd) {
	case "AUTH":
		if a.state != authWaitAuth {
			return a.fail("ERROR \"AUTH not expected\"")
		}
		mech, initial, hasInitial := bytes.Cut(arg, []byte(" "))
		if string(mech) != "EXTERNAL" {
			// Covers a bare AUTH (the client asking which mechanisms we
			// support) as well as mechanisms we do not offer.
			return a.fail("REJECTED EXTERNAL")
		}
		if !hasInitial || len(initial) == 0 {
			a.state = authWaitData
			return "DATA", nil
		}
		return a.external(initial)
	case "DATA":
		if a.state != authWaitData {
			return a.fail("ERROR \"DATA not expected\"")
		}
		return a.external(arg)
	case "NEGOTIATE_UNIX_FD":
		if a.state != authWaitBegin {
			return a.fail("ERROR \"NEGOTIATE_UNIX_FD not expected\"")
		}
		a.unixFD = true
		return "AGREE_UNIX_FD", nil
	case "BEGIN":
		if a.state != authWaitBegin {
			return "", fmt.Errorf("BEGIN before authentication: %w", errAuthRejected)
		}
		a.state = authDone
		return "", nil
	case "CANCEL", "ERROR":
		if a.state == authWaitBegin || a.state == authWaitData || string(cmd) == "CANCEL" {
			a.state = authWaitAuth
			a.unixFD = false
			return a.fail("REJECTED EXTERNAL")
		}
		return a.fail("REJECTED EXTERNAL")
	default:
		return a.fail("ERROR \"unknown command\"")
	}
}

// fail counts a recoverable failure; a client that keeps failing is not
// going to succeed and is dropped.
func (a *saslServer) fail(reply string) (string, error) {
	a.failures++
	if a.failures > maxAuthFailures {
		return reply, fmt.Errorf("too many authentication failures: %w", errAuthRejected)
	}
	return reply, nil
}

// external checks the EXTERNAL identity, hex-encoded ASCII decimal uid, or
// empty to mean "whatever the kernel says".
func (a *saslServer) external(hexID []byte) (string, error) {
	if a.peerUID != a.wantUID {
		return "REJECTED EXTERNAL", fmt.Errorf("peer uid %d is not %d: %w", a.peerUID, a.wantUID, errAuthRejected)
	}
	if len(hexID) > 0 {
		id, err := hex.DecodeString(string(hexID))
		if err != nil {
			return "REJECTED EXTERNAL", fmt.Errorf("identity is not hex: %w", errAuthRejected)
		}
		claimed, err := strconv.ParseUint(string(id), 10, 32)
		if err != nil || string(id) != strconv.FormatUint(claimed, 10) {
			return "REJECTED EXTERNAL", fmt.Errorf("identity %q is not a uid: %w", id, errAuthRejected)
		}
		// A claim other than the kernel's answer is refused outright
		// rather than retried: no other mechanism is offered, so nothing
		// the client can do next would succeed.
		if int64(claimed) != int64(a.peerUID) {
			return "REJECTED EXTERNAL", fmt.Errorf("claimed uid %d is not peer uid %d: %w", claimed, a.peerUID, errAuthRejected)
		}
	}
	a.state = authWaitBegin
	return "OK " + a.guid, nil
}

// authLineReader is the part of wireReader the handshake uses.
type authLineReader interface {
	readByte() (byte, error)
	readLine(max int) ([]byte, error)
}

// runAuth drives the handshake over r, writing replies with write. It
// returns whether unix fd passing was agreed.
func runAuth(a *saslServer, r authLineReader, write func(string) error) (bool, error) {
	nul, err := r.readByte()
	if err != nil {
		return false, fmt.Errorf("cannot read credentials byte: %w", err)
	}
	if nul != 0 {
		return false, fmt.Errorf("first byte is %#x, not NUL: %w", nul, errProtocol)
	}
	for a.state != authDone {
		line, err := r.readLine(maxAuthLine)
		if err != nil {
			return false, fmt.Errorf("cannot read authentication line: %w", err)
		}
		reply, serr := a.step(line)
		if reply != "" {
			if werr := write(reply + "\r\n"); werr != nil {
				return false, fmt.Errorf("cannot write authentication reply: %w", werr)
			}
		}
		if serr != nil {
			return false, serr
		}
	}
	return a.unixFD, nil
}
