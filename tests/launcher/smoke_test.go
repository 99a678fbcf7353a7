package launcher_test

import (
	"strings"
	"testing"

	"airlock/tests/harness"
)

func TestSmokeExitStatus(t *testing.T) {
	e := harness.Get(t)
	r := e.Sandboxed(t, nil, "id -u; exit 7")
	if r.Code != 7 || strings.TrimSpace(r.Stdout) != itoa(e.UID) {
		t.Fatalf("want exit 7 and uid %d printed, got %v", e.UID, r)
	}
}
