package control

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

var published = []struct {
	iface, xml string
}{
	{Interface, PortalXML},
	{LauncherInterface, LauncherXML},
}

// TestInterfacesShipped: the copies installed from data/dbus-1/interfaces/
// are the descriptions the programs serve.
func TestInterfacesShipped(t *testing.T) {
	for _, p := range published {
		path := filepath.Join("..", "..", "data", "dbus-1", "interfaces", p.iface+".xml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != p.xml {
			t.Errorf("data/dbus-1/interfaces/%[1]s.xml differs from portal/control/%[1]s.xml, which the programs embed: cp portal/control/%[1]s.xml data/dbus-1/interfaces/", p.iface)
		}
	}
}

// TestInterfacesWellFormed: each file describes its one interface, every
// argument named, typed with one complete type and given a direction.
func TestInterfacesWellFormed(t *testing.T) {
	for _, p := range published {
		var n introspect.Node
		if err := xml.Unmarshal([]byte(p.xml), &n); err != nil {
			t.Fatalf("%s: %v", p.iface, err)
		}
		if len(n.Interfaces) != 1 || n.Interfaces[0].Name != p.iface {
			t.Errorf("%s.xml describes %+v, want the one interface %s", p.iface, n.Interfaces, p.iface)
			continue
		}
		if len(n.Interfaces[0].Methods) == 0 {
			t.Errorf("%s: no methods", p.iface)
		}
		for _, m := range n.Interfaces[0].Methods {
			for i, a := range m.Args {
				if a.Name == "" {
					t.Errorf("%s.%s: argument %d has no name", p.iface, m.Name, i)
				}
				if a.Direction != "in" && a.Direction != "out" {
					t.Errorf("%s.%s(%s): direction %q", p.iface, m.Name, a.Name, a.Direction)
				}
				if s, err := dbus.ParseSignature(a.Type); err != nil || len(s.String()) == 0 {
					t.Errorf("%s.%s(%s): type %q: %v", p.iface, m.Name, a.Name, a.Type, err)
				}
			}
		}
	}
}

// TestIntrospectable: Introspect answers with the interface and the
// standard ones godbus serves.
func TestIntrospectable(t *testing.T) {
	for _, p := range published {
		data, err := Introspectable(p.xml)
		if err != nil {
			t.Fatal(err)
		}
		s, derr := data.Introspect()
		if derr != nil {
			t.Fatal(derr)
		}
		var n introspect.Node
		if err := xml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatalf("%s: the answer does not parse: %v\n%s", p.iface, err, s)
		}
		got := map[string]bool{}
		for _, i := range n.Interfaces {
			got[i.Name] = true
		}
		for _, want := range []string{p.iface, "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer"} {
			if !got[want] {
				t.Errorf("%s: Introspect lacks %s:\n%s", p.iface, want, s)
			}
		}
	}
	if _, err := Introspectable("<node"); err == nil {
		t.Error("Introspectable accepted a broken description")
	}
}
