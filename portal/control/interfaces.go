package control

import (
	_ "embed"
	"encoding/xml"
	"fmt"

	"github.com/godbus/dbus/v5/introspect"
)

// The two interfaces of the control protocol, the contract this package
// publishes: the broker's (Interface) and the one every launcher serves for
// the broker (LauncherInterface). They are installed from identical copies
// under data/dbus-1/interfaces/ (go:embed cannot reach outside this folder;
// TestInterfacesShipped keeps the copies equal).
var (
	//go:embed org.airlock.Portal1.xml
	PortalXML string
	//go:embed org.airlock.Launcher1.xml
	LauncherXML string
)

// Introspectable returns what an object serving the interface described in
// ifaceXML (PortalXML or LauncherXML) answers to Introspect: that interface,
// with org.freedesktop.DBus.Introspectable and Peer.
func Introspectable(ifaceXML string) (introspect.Introspectable, error) {
	var n introspect.Node
	if err := xml.Unmarshal([]byte(ifaceXML), &n); err != nil {
		return "", fmt.Errorf("cannot read the interface description: %w", err)
	}
	n.Name = ""
	return introspect.NewIntrospectable(&n), nil
}
