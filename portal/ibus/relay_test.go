package ibus

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// roundTrip encodes body as the peer would and decodes it as godbus does.
func roundTrip(t *testing.T, body ...any) *dbus.Message {
	t.Helper()
	m := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath("/a")),
		dbus.FieldInterface: dbus.MakeVariant("a.b"),
		dbus.FieldMember:    dbus.MakeVariant("C"),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(body...)),
	}, Body: body}
	var buf bytes.Buffer
	if err := m.EncodeTo(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	out, err := dbus.DecodeMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// encodeBody is the wire form of body (the message's last bytes, its
// length at offset 4).
func encodeBody(t *testing.T, body ...any) []byte {
	t.Helper()
	b := roundTripBytes(t, body...)
	n := binary.LittleEndian.Uint32(b[4:8])
	return b[len(b)-int(n):]
}

func roundTripBytes(t *testing.T, body ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath("/a")),
		dbus.FieldInterface: dbus.MakeVariant("a.b"),
		dbus.FieldMember:    dbus.MakeVariant("C"),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(body...)),
	}, Body: body}
	if err := m.EncodeTo(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ibusText is IBusText as ibus serializes it: (sa{sv}sv), its attributes
// an IBusAttrList (sa{sv}av) of IBusAttribute (sa{sv}uuuu).
type attr struct {
	Name  string
	Att   map[string]dbus.Variant
	Type  uint32
	Value uint32
	Start uint32
	End   uint32
}
type attrList struct {
	Name  string
	Att   map[string]dbus.Variant
	Attrs []dbus.Variant
}
type ibusText struct {
	Name  string
	Att   map[string]dbus.Variant
	Text  string
	Attrs dbus.Variant
}

// TestRetypeIsFaithful: a body decoded by godbus, retyped with its
// signature, encodes to the very bytes the peer sent; without retyping it
// does not (the struct in the variant becomes an array of variants).
func TestRetypeIsFaithful(t *testing.T) {
	text := ibusText{Name: "IBusText", Att: map[string]dbus.Variant{}, Text: "日本",
		Attrs: dbus.MakeVariant(attrList{Name: "IBusAttrList", Att: map[string]dbus.Variant{},
			Attrs: []dbus.Variant{dbus.MakeVariant(attr{"IBusAttribute", map[string]dbus.Variant{}, 1, 1, 0, 2})}})}
	for _, body := range [][]any{
		{dbus.MakeVariant(text), uint32(2), true},
		{dbus.MakeVariant(text), uint32(1), uint32(0)},
		{"org.freedesktop.IBus.InputContext", "ContentType", dbus.MakeVariant(struct{ A, B uint32 }{1, 2})},
		{[]float64{1, 2.5}},
		{uint32(97), uint32(30), uint32(0)},
		{map[string][]struct {
			A int32
			B string
		}{"k": {{1, "x"}}}},
	} {
		want := encodeBody(t, body...)
		in := roundTrip(t, body...)
		sig := in.Headers[dbus.FieldSignature].Value().(dbus.Signature).String()
		out, err := RetypeBody(sig, in.Body)
		if err != nil {
			t.Fatalf("%s: %v", sig, err)
		}
		if got := encodeBody(t, out...); !bytes.Equal(got, want) {
			t.Errorf("%s: retyped body encodes differently", sig)
		}
	}
	in := roundTrip(t, dbus.MakeVariant(text))
	if bytes.Equal(encodeBody(t, in.Body...), encodeBody(t, dbus.MakeVariant(text))) {
		t.Fatal("godbus re-encodes a struct in a variant faithfully: retyping is not needed, or the test is wrong")
	}
}

func TestRetypeRefuses(t *testing.T) {
	for _, tc := range []struct {
		sig  string
		body []any
	}{
		{"u", []any{"x"}},
		{"uu", []any{uint32(1)}},
		{"u", []any{uint32(1), uint32(2)}},
		{"h", []any{dbus.UnixFDIndex(0)}},
		{"(uu)", []any{[]any{uint32(1)}}},
		{"v", []any{dbus.MakeVariantWithSignature([]any{"a"}, dbus.ParseSignatureMust("(u)"))}},
	} {
		if _, err := RetypeBody(tc.sig, tc.body); err == nil {
			t.Errorf("%s %v: retyped", tc.sig, tc.body)
		}
	}
}

func call(sender string, path dbus.ObjectPath, iface, member string, body ...any) *dbus.Message {
	m := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldSender:      dbus.MakeVariant(sender),
		dbus.FieldDestination: dbus.MakeVariant(Name),
		dbus.FieldPath:        dbus.MakeVariant(path),
		dbus.FieldInterface:   dbus.MakeVariant(iface),
		dbus.FieldMember:      dbus.MakeVariant(member),
	}, Body: body}
	if len(body) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	return m
}

// TestRefusedCallsNeverReachTheHost: everything outside the portal's API,
// and every context that is not the caller's, is refused by the relay
// itself: its dial fails the test if it is ever used.
func TestRefusedCallsNeverReachTheHost(t *testing.T) {
	r := New(func() (*dbus.Conn, error) {
		t.Error("the relay dialled the host")
		return nil, errors.New("no host")
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const own, other = dbus.ObjectPath("/org/freedesktop/IBus/InputContext_1"), dbus.ObjectPath("/org/freedesktop/IBus/InputContext_2")
	r.contexts[own] = inputContext{client: ":1.5", portal: ":9.9"}
	r.contexts[other] = inputContext{client: ":1.6", portal: ":9.9"}
	for _, tc := range []struct {
		msg  *dbus.Message
		want string
	}{
		// The daemon's own interface, on the portal's name.
		{call(":1.5", "/org/freedesktop/IBus", "org.freedesktop.IBus", "CreateInputContext", "x"), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus", "org.freedesktop.IBus", "ListEngines"), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus", "org.freedesktop.DBus.Introspectable", "Introspect"), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus", "org.freedesktop.IBus.Portal", "CreateInputContext", uint32(1)), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus/Panel", "org.freedesktop.IBus.Panel", "FocusIn", own), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus/Config", "org.freedesktop.IBus.Config", "GetValue", "a", "b"), ErrAccessDenied},
		// Another client's context, and one never created.
		{call(":1.5", other, contextIface, "ProcessKeyEvent", uint32(97), uint32(30), uint32(0)), ErrAccessDenied},
		{call(":1.5", other, serviceIface, "Destroy"), ErrAccessDenied},
		{call(":1.5", "/org/freedesktop/IBus/InputContext_3", contextIface, "FocusIn"), ErrAccessDenied},
		// The caller's own context, outside the API or with other arguments.
		{call(":1.5", own, contextIface, "SetEngine", "xkb:us::eng"), ErrAccessDenied},
		{call(":1.5", own, contextIface, "PropertyActivate", "InputMode", uint32(1)), ErrAccessDenied},
		{call(":1.5", own, contextIface, "ProcessKeyEvent", uint32(97)), ErrInvalidArgs},
		{call(":1.5", own, contextIface, "FocusIn", "x"), ErrInvalidArgs},
		{call(":1.5", own, "org.freedesktop.IBus.Engine", "ProcessKeyEvent", uint32(97), uint32(30), uint32(0)), ErrAccessDenied},
		{call(":1.5", own, propsIface, "Set", contextIface, "ContentType", dbus.MakeVariant(uint32(1))), ErrAccessDenied},
		{call(":1.5", own, propsIface, "Set", "org.freedesktop.IBus.Engine", "ContentType", dbus.MakeVariant(struct{ A, B uint32 }{1, 2})), ErrAccessDenied},
		{call(":1.5", own, propsIface, "Get", contextIface, "Engine"), ErrAccessDenied},
		{call(":1.5", own, propsIface, "Get"), ErrAccessDenied},
		{call(":1.5", own, serviceIface, "Destroy", "x"), ErrAccessDenied},
		// Surrounding text that is not an IBusText: ibus-daemon would
		// build whatever IBusSerializable type the variant names.
		{call(":1.5", own, contextIface, "SetSurroundingText", dbus.MakeVariant(ibusText{Name: "IBusEngineDesc", Att: map[string]dbus.Variant{}, Text: "x", Attrs: dbus.MakeVariant(attrList{"IBusAttrList", map[string]dbus.Variant{}, []dbus.Variant{}})}), uint32(0), uint32(0)), ErrInvalidArgs},
		{call(":1.5", own, contextIface, "SetSurroundingText", dbus.MakeVariant("x"), uint32(0), uint32(0)), ErrInvalidArgs},
		{call(":1.5", own, contextIface, "SetSurroundingText", dbus.MakeVariant(ibusText{Name: "IBusText", Att: map[string]dbus.Variant{}, Text: "x", Attrs: dbus.MakeVariant(attrList{"IBusAttrList", map[string]dbus.Variant{}, []dbus.Variant{dbus.MakeVariant(uint32(1))}})}), uint32(0), uint32(0)), ErrInvalidArgs},
		// A hostile client name.
		{call(":1.5", "/org/freedesktop/IBus", portalIface, "CreateInputContext", "a\nb"), ErrInvalidArgs},
		{call(":1.5", "/org/freedesktop/IBus", portalIface, "CreateInputContext", strings.Repeat("a", 129)), ErrInvalidArgs},
	} {
		// As the sandbox bus hands it over: decoded by godbus.
		tc.msg.Body = roundTrip(t, tc.msg.Body...).Body
		out, err := r.Call(context.Background(), tc.msg)
		if err != nil {
			t.Fatalf("%v: %v", tc.msg, err)
		}
		if name, _ := out.Headers[dbus.FieldErrorName].Value().(string); name != tc.want {
			t.Errorf("%v: error %q, want %q", tc.msg, name, tc.want)
		}
	}
	// At the cap, CreateInputContext is refused before the host is asked.
	for i := 0; len(r.contexts) < MaxContexts; i++ {
		r.contexts[dbus.ObjectPath("/x/"+string(rune('a'+i%26))+string(rune('a'+i/26)))] = inputContext{client: ":1.5"}
	}
	out, err := r.Call(context.Background(), call(":1.7", "/org/freedesktop/IBus", portalIface, "CreateInputContext", "gtk3-im"))
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := out.Headers[dbus.FieldErrorName].Value().(string); name != ErrLimitsExceeded {
		t.Errorf("context %d: %q, want %q", MaxContexts+1, name, ErrLimitsExceeded)
	}
	// A client that leaves loses its contexts; others keep theirs.
	r.ClientGone(":1.5")
	if _, ok := r.contexts[own]; ok || len(r.contexts) != 1 {
		t.Errorf("after :1.5 left, %d contexts remain", len(r.contexts))
	}
}

// TestSignalsOnlyToTheOwner: a context's signal reaches the client that
// made it, only when ibus-portal sent it, and only for known signals.
func TestSignalsOnlyToTheOwner(t *testing.T) {
	r := New(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const own = dbus.ObjectPath("/org/freedesktop/IBus/InputContext_1")
	r.contexts[own] = inputContext{client: ":1.5", portal: ":9.9"}
	var got []string
	r.SetEmitter(func(dest string, path dbus.ObjectPath, iface, member string, body ...any) error {
		got = append(got, dest+" "+member+" "+dbus.SignatureOf(body...).String())
		return nil
	})
	text := dbus.MakeVariant(ibusText{Name: "IBusText", Att: map[string]dbus.Variant{}, Text: "a", Attrs: dbus.MakeVariant(attrList{"IBusAttrList", map[string]dbus.Variant{}, []dbus.Variant{}})})
	commit := roundTrip(t, text).Body
	for _, s := range []*dbus.Signal{
		{Sender: ":9.9", Path: own, Name: contextIface + ".CommitText", Body: commit},
		{Sender: ":9.8", Path: own, Name: contextIface + ".CommitText", Body: commit},
		{Sender: ":9.9", Path: "/org/freedesktop/IBus/InputContext_2", Name: contextIface + ".CommitText", Body: commit},
		{Sender: ":9.9", Path: own, Name: "org.freedesktop.IBus.Panel.CommitText", Body: commit},
		{Sender: ":9.9", Path: own, Name: contextIface + ".Unknown", Body: nil},
		{Sender: ":9.9", Path: own, Name: contextIface + ".ForwardKeyEvent", Body: []any{"x"}},
	} {
		r.deliver(s)
	}
	if len(got) != 1 || got[0] != ":1.5 CommitText v" {
		t.Fatalf("delivered %q, want only the owner's CommitText", got)
	}
}

// TestCheckText: the surrounding text GTK's IBus module sends passes; any
// other serializable in its place does not (values as godbus decodes them).
func TestCheckText(t *testing.T) {
	list := func(attrs ...dbus.Variant) dbus.Variant {
		return dbus.MakeVariant(attrList{"IBusAttrList", map[string]dbus.Variant{}, append([]dbus.Variant{}, attrs...)})
	}
	underline := dbus.MakeVariant(attr{"IBusAttribute", map[string]dbus.Variant{}, 1, 1, 0, 2})
	for _, tc := range []struct {
		v  dbus.Variant
		ok bool
	}{
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{}, "日本語", list()}), true},
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{}, "x", list(underline)}), true},
		{dbus.MakeVariant(ibusText{"IBusEngineDesc", map[string]dbus.Variant{}, "x", list()}), false},
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{"k": dbus.MakeVariant("v")}, "x", list()}), false},
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{}, "x", dbus.MakeVariant("x")}), false},
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{}, "x", list(dbus.MakeVariant(uint32(1)))}), false},
		{dbus.MakeVariant(ibusText{"IBusText", map[string]dbus.Variant{}, "x", list(dbus.MakeVariant(attr{"IBusText", map[string]dbus.Variant{}, 1, 1, 0, 2}))}), false},
		{dbus.MakeVariant("x"), false},
		// Qt 5 writes the attribute list inline, not in a variant.
		{dbus.MakeVariant(struct {
			Name string
			Att  map[string]dbus.Variant
			Text string
			List attrList
		}{"IBusText", map[string]dbus.Variant{}, "x", attrList{"IBusAttrList", map[string]dbus.Variant{}, []dbus.Variant{underline}}}), true},
		{dbus.MakeVariant(struct {
			Name string
			Att  map[string]dbus.Variant
			Text string
			List attrList
		}{"IBusText", map[string]dbus.Variant{}, "x", attrList{"IBusComponent", map[string]dbus.Variant{}, nil}}), false},
	} {
		decoded := roundTrip(t, tc.v).Body[0]
		if err := checkText(decoded); (err == nil) != tc.ok {
			t.Errorf("%v: %v, want ok %v", tc.v, err, tc.ok)
		}
	}
}
