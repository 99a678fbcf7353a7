package brokerclient

import (
	"testing"

	"airlock/portal/control"
	"airlock/portal/control/ifacetest"
)

// TestLauncherXMLMatchesObject: the interface every launcher serves for the
// broker (control.LauncherXML, installed under data/dbus-1/interfaces/) is
// what launcherObject exports: same methods, argument types, directions and
// names.
func TestLauncherXMLMatchesObject(t *testing.T) {
	for _, d := range ifacetest.Compare(control.LauncherXML, control.LauncherInterface, launcherObject{}, ".", "launcherObject") {
		t.Error(d)
	}
}
