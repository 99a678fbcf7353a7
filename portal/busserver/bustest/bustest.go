// Package bustest has the client side that the bus server's and the
// portals' tests share: a connection that ends with the test, and the D-Bus
// error name of a failed call.
package bustest

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

// Dial connects to a bus address (SASL, Hello) and closes the connection
// when the test ends.
func Dial(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ErrName is the D-Bus error name of err ("" when err is not a D-Bus error).
func ErrName(err error) string {
	switch e := err.(type) {
	case dbus.Error:
		return e.Name
	case *dbus.Error:
		return e.Name
	}
	return ""
}
