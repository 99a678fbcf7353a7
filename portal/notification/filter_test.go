package notification

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// notifyBody is a Notify call as a sandbox sends it.
func notifyBody(app string, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) []any {
	return []any{app, uint32(0), icon, summary, body, actions, hints, timeout}
}

// TestFilterNotifyAttacks replays issue 8 item 4: every argument of a
// hostile Notify reaches the host only as the filter lets it.
func TestFilterNotifyAttacks(t *testing.T) {
	hostile := notifyBody("Tails Upgrader", "/home/amnesia/Persistent/secret.png",
		`Upgrade <a href="https://evil.example/">now</a>`,
		`Click <a href="https://evil.example/x">here</a> <img src="/etc/passwd"/> <b>bold</b> <i>it</i> <u>u</u> <span foreground="red">red</span>`,
		[]string{"default", "Open", "app.quit", "Quit", "https://evil.example", "Visit", "ok;rm -rf", "Run", "b1", "One", "b2", "Two", "b3", "Three", "b4", "Four"},
		map[string]dbus.Variant{
			"desktop-entry":            dbus.MakeVariant("tails-upgrade-frontend"),
			"image-path":               dbus.MakeVariant("/home/amnesia/.ssh/id_rsa"),
			"image_path":               dbus.MakeVariant("file:///etc/shadow"),
			"image-data":               dbus.MakeVariant([]any{int32(1), int32(1), int32(4), true, int32(8), int32(4), []byte{0, 0, 0, 0}}),
			"sound-file":               dbus.MakeVariant("/usr/share/sounds/alarm.oga"),
			"sound-name":               dbus.MakeVariant("alarm-clock-elapsed"),
			"resident":                 dbus.MakeVariant(true),
			"transient":                dbus.MakeVariant(true),
			"x-canonical-append":       dbus.MakeVariant("true"),
			"x-kde-origin-name":        dbus.MakeVariant("Tails"),
			"urgency":                  dbus.MakeVariant(byte(2)),
			"category":                 dbus.MakeVariant("im.received"),
			"suppress-sound":           dbus.MakeVariant(true),
			"action-icons":             dbus.MakeVariant(true),
			"x":                        dbus.MakeVariant(int32(0)),
			"sender-pid":               dbus.MakeVariant(int64(1)),
			"x-gnome-privacy-scope":    dbus.MakeVariant("system"),
			"x-kde-appname":            dbus.MakeVariant("org.kde.discover"),
			"x-kde-display-appname":    dbus.MakeVariant("Discover"),
			"x-kde-urls":               dbus.MakeVariant([]string{"file:///etc/passwd"}),
			"x-canonical-private-icon": dbus.MakeVariant("/tmp/x.png"),
		}, 0)
	n, err := FilterNotify(hostile, "Tor Browser (sandboxed)", "torbrowser")
	if err != nil {
		t.Fatal(err)
	}
	if n.AppName != "Tor Browser (sandboxed)" {
		t.Errorf("app_name %q: the application's name went through", n.AppName)
	}
	if n.AppIcon != "torbrowser" {
		t.Errorf("app_icon %q, want the sandbox's own (a path is no themed name)", n.AppIcon)
	}
	if n.Summary != "Upgrade now" {
		t.Errorf("summary %q", n.Summary)
	}
	if want := `Click here  <b>bold</b> <i>it</i> <u>u</u> red`; n.Body != want {
		t.Errorf("body\n got %q\nwant %q", n.Body, want)
	}
	for _, bad := range []string{"href", "evil", "img", "passwd", "span"} {
		if strings.Contains(n.Body, bad) {
			t.Errorf("body keeps %q: %q", bad, n.Body)
		}
	}
	if want := []string{"default", "Open", "b1", "One", "b2", "Two", "b3", "Three"}; !reflect.DeepEqual(n.Actions, want) {
		t.Errorf("actions %q, want %q", n.Actions, want)
	}
	if want := map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(2)), "category": dbus.MakeVariant("im.received"), "suppress-sound": dbus.MakeVariant(true)}; !reflect.DeepEqual(n.Hints, want) {
		t.Errorf("hints %v, want %v", n.Hints, want)
	}
	if n.Timeout != -1 {
		t.Errorf("timeout %d: 0 (never expire) must become -1", n.Timeout)
	}
	// What goes on the wire is (susssasa{sv}i).
	if sig := dbus.SignatureOf(n.Args()...).String(); sig != "susssasa{sv}i" {
		t.Errorf("signature %s", sig)
	}
}

func TestFilterNotifyBadArgs(t *testing.T) {
	for _, body := range [][]any{
		nil,
		{"a", uint32(0), "", "s", "b", []string{}, map[string]dbus.Variant{}},
		{"a", int32(0), "", "s", "b", []string{}, map[string]dbus.Variant{}, int32(-1)},
		{"a", uint32(0), "", "s", "b", []any{}, map[string]dbus.Variant{}, int32(-1)},
	} {
		if _, err := FilterNotify(body, "S", ""); err == nil {
			t.Errorf("%v: accepted", body)
		}
	}
}

func TestHintsWrongTypes(t *testing.T) {
	got := Hints(map[string]dbus.Variant{
		"urgency":  dbus.MakeVariant(byte(7)),
		"category": dbus.MakeVariant("../../etc"),
	})
	if len(got) != 0 {
		t.Errorf("hints %v, want none", got)
	}
	got = Hints(map[string]dbus.Variant{"urgency": dbus.MakeVariant(int32(1))})
	if len(got) != 0 {
		t.Errorf("urgency of type i kept: %v", got)
	}
}

func TestThemedName(t *testing.T) {
	for name, want := range map[string]bool{
		"mail-unread-symbolic":       true,
		"org.gnome.Maps":             true,
		"torbrowser":                 true,
		"":                           false,
		"/usr/share/icons/x.png":     false,
		"file:///etc/passwd":         false,
		"../../../etc/passwd":        false,
		".hidden":                    false,
		"-rf":                        false,
		"a b":                        false,
		"icon\x00":                   false,
		strings.Repeat("a", 200):     false,
		"https://evil.example/x.png": false,
	} {
		if got := ThemedName(name); got != want {
			t.Errorf("ThemedName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMarkup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"&amp; &lt; &#65; &#x41; &bogus; &#x202E;", "&amp; &lt; &#65; &#x41; &amp;bogus; &amp;#x202E;"},
		{`<b>x</b><B>y</B>`, `<b>x</b><b>y</b>`},
		{`<b onclick="x">x</b>`, `x`},
		{`<b>unclosed <i>nested`, `<b>unclosed <i>nested</i></b>`},
		{`</b>stray`, `stray`},
		{`<b><i>crossed</b></i>`, `<b><i>crossed</i></b>`},
		{`<a href="http://x">link</a>`, `link`},
		{`<img src="file:///etc/passwd" alt="pic"/>`, ``},
		{`<!-- comment -->text`, `text`},
		{`<![CDATA[<a href=x>]]>`, `&lt;![CDATA[]]&gt;`},
		{"bidi \u202Eevil", "bidi  evil"},
		{"ctl\x07bell\nline", "ctl bell\nline"},
		{"bad utf8 \xff", "bad utf8 \uFFFD"},
	} {
		if got := Markup(tc.in, 100); got != tc.want {
			t.Errorf("Markup(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	long := Markup(strings.Repeat("<b>ab</b>", 1000), 10)
	if long != "<b>ab</b><b>ab</b><b>ab</b><b>ab</b><b>ab…</b>" {
		t.Errorf("capped markup: %q", long)
	}
}

func TestPlainTextAndEscape(t *testing.T) {
	if got := PlainText("two\nlines <b>and</b> \u202Etags", 100); got != "two lines and  tags" {
		t.Errorf("PlainText: %q", got)
	}
	if got := PlainText(strings.Repeat("x", 500), MaxSummary); len([]rune(got)) != MaxSummary+1 {
		t.Errorf("PlainText cap: %d runes", len([]rune(got)))
	}
	if got := Escape(`<a href="x">a & b</a>`, 100); got != `&lt;a href="x"&gt;a &amp; b&lt;/a&gt;` {
		t.Errorf("Escape: %q", got)
	}
}

func TestActionsKeys(t *testing.T) {
	got := Actions([]string{"default", "", "good_id-1", "Good", "with space", "x", "app.activate", "x", "odd"})
	if want := []string{"default", "", "good_id-1", "Good"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Actions = %q, want %q", got, want)
	}
}

func TestCapabilities(t *testing.T) {
	got := Capabilities([]string{"actions", "body", "body-hyperlinks", "body-images", "body-markup", "icon-static", "sound", "persistence", "x-kde-urls"})
	if want := []string{"actions", "body", "body-markup", "persistence"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Capabilities = %q, want %q", got, want)
	}
}

// TestLimiterFlood: a flood gets the burst, then one a second, and logs one
// line per burst of refusals.
func TestLimiterFlood(t *testing.T) {
	var logs bytes.Buffer
	l := NewLimiter(10, 1, slog.New(slog.NewTextHandler(&logs, nil)).With("sandbox", "Flooder"))
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	ok := 0
	for i := 0; i < 4327; i++ {
		if l.Allow() {
			ok++
		}
		now = now.Add(3 * time.Second / 4327)
	}
	// 10 at once, then the 3 seconds of the flood refill about 3.
	if ok < 10 || ok > 13 {
		t.Errorf("%d of 4327 notifications in 3 s let through, want 10 to 13", ok)
	}
	if n := strings.Count(logs.String(), "too many notifications"); n != 1 {
		t.Errorf("%d refusal log lines for one flood, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "sandbox=Flooder") {
		t.Errorf("the refusal does not name the sandbox:\n%s", logs.String())
	}
	now = now.Add(time.Minute)
	for i := 0; i < 10; i++ {
		if !l.Allow() {
			t.Fatalf("after a quiet minute, notification %d refused", i)
		}
	}
	if l.Allow() {
		t.Error("an 11th at once let through")
	}
	if n := strings.Count(logs.String(), "too many notifications"); n != 2 {
		t.Errorf("%d refusal log lines for two floods, want 2", n)
	}
}
