package sandbox

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"airlock/launcher/profile"
)

// setupReply builds the additional data of a set-up reply with the given
// screens (width, height, number of depths each with one visual).
func setupReply(vendor string, formats int, screens [][3]int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, [4]uint32{0, 0x400000, 0x1fffff, 256})
	binary.Write(&b, le, uint16(len(vendor)))
	binary.Write(&b, le, uint16(0xffff))
	b.Write([]byte{byte(len(screens)), byte(formats), 0, 0, 32, 32, 8, 255, 0, 0, 0, 0})
	b.Write(pad4([]byte(vendor)))
	b.Write(make([]byte, 8*formats))
	for _, s := range screens {
		scr := make([]byte, 40)
		le.PutUint16(scr[20:], uint16(s[0]))
		le.PutUint16(scr[22:], uint16(s[1]))
		scr[39] = byte(s[2])
		b.Write(scr)
		for d := 0; d < s[2]; d++ {
			b.Write([]byte{24, 0, 1, 0, 0, 0, 0, 0}) // depth 24, one visual
			b.Write(make([]byte, 24))
		}
	}
	return b.Bytes()
}

func TestParseSetupScreen(t *testing.T) {
	two := setupReply("The X.Org Foundation", 7, [][3]int{{1600, 1200, 3}, {1024, 768, 1}})
	for _, c := range []struct {
		name string
		data []byte
		scr  int
		w, h int
		err  string
	}{
		{"first screen", two, 0, 1600, 1200, ""},
		{"second screen, after the first's depths", two, 1, 1024, 768, ""},
		{"no such screen", two, 2, 0, 0, "no screen 2"},
		{"odd vendor length", setupReply("abc", 1, [][3]int{{800, 600, 0}}), 0, 800, 600, ""},
		{"truncated", two[:60], 0, 0, 0, "short"},
		{"empty", nil, 0, 0, 0, "short"},
	} {
		w, h, err := parseSetupScreen(c.data, c.scr)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: want an error with %q, got %dx%d, %v", c.name, c.err, w, h, err)
			}
			continue
		}
		if err != nil || w != c.w || h != c.h {
			t.Errorf("%s: got %dx%d, %v; want %dx%d", c.name, w, h, err, c.w, c.h)
		}
	}
}

func TestXephyrPlan(t *testing.T) {
	acct := Account{Name: "amnesia", UID: 1000, GID: 1000, Home: "/home/amnesia"}
	p := xephyrPlan(acct, 7, "/run/user/1000/airlock/run-x/x11", "/run/user/1000/airlock/run-x/Xauthority", "/run/user/1000/airlock/run-x/host-xauthority",
		[]string{"/usr/bin/Xephyr", ":0"}, []string{"DISPLAY=:7"})
	if len(p.Ops) == 0 || p.Ops[0].Kind != OpTmpfs || p.Ops[0].Dst != "/" || p.Ops[len(p.Ops)-1].Kind != OpRemountRO {
		t.Fatalf("want tmpfs / first and remount-ro / last:\n%s", p.String())
	}
	binds := map[string]Op{}
	for _, o := range p.Ops {
		if o.IsBind() {
			binds[o.Dst] = o
			if strings.HasPrefix(o.Dst, acct.Home) || strings.HasPrefix(o.Src, acct.Home) {
				t.Errorf("home reached: %s", o)
			}
		}
	}
	for dst, want := range map[string]Op{
		"/tmp/.X11-unix":    {Kind: OpBind, Src: "/run/user/1000/airlock/run-x/x11"},
		"/tmp/.X11-unix/X7": {Kind: OpBind, Src: "/tmp/.X11-unix/X7"},
		xephyrAuthIn:        {Kind: OpROBind, Src: "/run/user/1000/airlock/run-x/Xauthority"},
		xephyrHostAuth:      {Kind: OpROBind, Src: "/run/user/1000/airlock/run-x/host-xauthority"},
	} {
		if got, ok := binds[dst]; !ok || got.Kind != want.Kind || got.Src != want.Src {
			t.Errorf("%s: got %v, want %s %s", dst, got, want.Kind, want.Src)
		}
	}
	// The socket folder before the host socket inside it.
	var dir, sock int
	for i, o := range p.Ops {
		switch o.Dst {
		case "/tmp/.X11-unix":
			dir = i
		case "/tmp/.X11-unix/X7":
			sock = i
		}
	}
	if dir > sock {
		t.Errorf("the host socket is bound before its folder:\n%s", p.String())
	}
	if strings.Join(p.Env, " ") != "DISPLAY=:7" || p.Args[0] != "/usr/bin/Xephyr" {
		t.Errorf("args %v env %v", p.Args, p.Env)
	}
}

func TestNestedDisplay(t *testing.T) {
	for _, host := range []int{0, 1, 7, 1000} {
		if n := nestedDisplay(host); n == host {
			t.Errorf("host display %d: the nested one takes the same number", host)
		}
	}
}

func TestDryRunShowsXephyrPlan(t *testing.T) {
	t.Setenv("DISPLAY", ":5")
	t.Setenv("XAUTHORITY", "")
	p := profile.Defaults()
	p.Display = profile.DisplayXephyr
	sb, err := Prepare(Options{Profile: &p, Args: []string{"/bin/true"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	d := sb.Plan().Display
	if d == nil {
		t.Fatalf("no nested server's plan:\n%s", sb.Plan())
	}
	text := sb.Plan().String()
	for _, want := range []string{"# nested X server (Xephyr)", "bind /tmp/.X11-unix/X5 /tmp/.X11-unix/X5", "env DISPLAY=:5", `"-extension" "RANDR"`, PlaceholderXephyrScreen} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the plan:\n%s", want, text)
		}
	}
	if !strings.Contains(strings.Join(d.Args, " "), "-screen "+PlaceholderXephyrScreen) {
		t.Errorf("args %v", d.Args)
	}
}
