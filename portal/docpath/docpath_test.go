package docpath

import "testing"

func TestInsideAndSplit(t *testing.T) {
	if got := Inside(1000, "ab12", "report.odt"); got != "/run/user/1000/doc/ab12/report.odt" {
		t.Fatalf("Inside = %q", got)
	}
	for _, c := range []struct {
		in, id, rest string
		ok           bool
	}{
		{"/run/user/1000/doc/ab12/report.odt", "ab12", "report.odt", true},
		{"/run/user/1000/doc/ab12", "ab12", "", true},
		{"/run/user/1000/doc/ab12/sub/x", "ab12", "sub/x", true},
		{"/run/user/1000/doc/ab12/../cd34/y", "cd34", "y", true},
		{"/run/user/1000/doc/../../etc/passwd", "", "", false},
		{"/run/user/1000/doc", "", "", false},
		{"/run/user/1001/doc/ab12/x", "", "", false},
		{"run/user/1000/doc/ab12/x", "", "", false},
	} {
		id, rest, ok := Split(1000, c.in)
		if id != c.id || rest != c.rest || ok != c.ok {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q, %v", c.in, id, rest, ok, c.id, c.rest, c.ok)
		}
	}
}
