package ifacetest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// object is a served object as the broker's and the launcher's are.
type object struct{}

func (object) Open(sender dbus.Sender, id string, fd dbus.UnixFD, options map[string]dbus.Variant) (string, *dbus.Error) {
	return "", nil
}

func (object) Close(id string) *dbus.Error { return nil }

func (object) Peek(msg dbus.Message, docID uint32) (found bool, path string, err *dbus.Error) {
	return false, "", nil
}

func (object) notExported() *dbus.Error { return nil }

const head = `<node><interface name="org.example.I1">`
const open = `<method name="Open"><arg name="id" type="s" direction="in"/><arg name="fd" type="h" direction="in"/><arg name="options" type="a{sv}" direction="in"/><arg name="out" type="s" direction="out"/></method>`
const closeM = `<method name="Close"><arg name="id" type="s" direction="in"/></method>`
const peek = `<method name="Peek"><arg name="doc_id" type="u" direction="in"/><arg name="found" type="b" direction="out"/><arg name="path" type="s" direction="out"/></method>`
const tail = `</interface></node>`

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		want      []string // substrings, one per difference
	}{
		{"agree", head + open + closeM + peek + tail, nil},
		{"method missing from the XML", head + open + peek + tail, []string{"Close: exported by object, not in the XML"}},
		{"method missing from Go", head + open + closeM + peek + `<method name="Gone"/>` + tail, []string{"Gone: in the XML, not exported"}},
		{"type differs", head + strings.Replace(open, `type="h"`, `type="s"`, 1) + closeM + peek + tail, []string{"Open: the XML says (in s, in s, in a{sv}, out s), the Go method (in s, in h, in a{sv}, out s)"}},
		{"direction differs", head + open + closeM + strings.Replace(peek, `name="path" type="s" direction="out"`, `name="path" type="s" direction="in"`, 1) + tail, []string{"Peek: the XML says"}},
		{"argument missing", head + strings.Replace(open, `<arg name="fd" type="h" direction="in"/>`, "", 1) + closeM + peek + tail, []string{"Open: the XML says"}},
		{"input name differs", head + strings.Replace(open, `name="options"`, `name="opts"`, 1) + closeM + peek + tail, []string{"Open: in arguments named [id fd opts] in the XML, [id fd options] in Go"}},
		{"named output differs", head + open + closeM + strings.Replace(peek, `name="found"`, `name="ok"`, 1) + tail, []string{"Peek: out arguments named"}},
		{"snake_case input", head + open + closeM + strings.Replace(peek, `name="doc_id"`, `name="docID"`, 1) + tail, []string{"Peek: in arguments named [docID]"}},
		{"another interface", `<node><interface name="org.example.Other"></interface></node>`, []string{"describes org.example.Other"}},
		{"not XML", `<node>`, []string{"cannot read the XML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(tc.xml, "org.example.I1", object{}, ".", "object")
			if len(got) != len(tc.want) {
				t.Fatalf("differences %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("difference %q, want one containing %q", got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSnake(t *testing.T) {
	got := []string{snake("id"), snake("docView"), snake("docID"), snake("options"), snake("HTTPServer"), snake("a11yBus")}
	if want := []string{"id", "doc_view", "doc_id", "options", "http_server", "a11y_bus"}; !reflect.DeepEqual(got, want) {
		t.Errorf("snake = %q, want %q", got, want)
	}
}
