package broker

import (
	"testing"

	"airlock/portal/control"
	"airlock/portal/control/ifacetest"
)

// TestControlXMLMatchesObject: the control interface the broker publishes
// (control.PortalXML, installed under data/dbus-1/interfaces/) is what its
// exported object serves: same methods, argument types, directions and
// names.
func TestControlXMLMatchesObject(t *testing.T) {
	for _, d := range ifacetest.Compare(control.PortalXML, control.Interface, controlObject{}, ".", "controlObject") {
		t.Error(d)
	}
}
