package escape_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// TestFdsInFlightBounded: issue 8 item 7. The kernel counts descriptors in
// flight over unix sockets per user, against the sender's RLIMIT_NOFILE
// (too_many_unix_fds): a sandbox that queued 15,000 in its own socket pair
// made SCM_RIGHTS fail with ETOOMANYREFS for every program of the same user.
// With the profile's max_open_files (512 by default) set as init's hard
// limit, the sandbox stops near it, and a host program of the same user at
// systemd's default soft limit (1024) still passes a descriptor meanwhile.
func TestFdsInFlightBounded(t *testing.T) {
	e := harness.Get(t)
	built := e.BuildGo(t, "./tests/escape/probe")
	probe := filepath.Join(e.UserDir(t), "probe")
	copyFile(t, built, probe, 0o755)
	if e.AsRoot() {
		os.Chown(probe, e.UID, e.GID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const want = 15000
	cmd := e.Airlock(ctx, "run", "--ro", probe, "--", probe, "fd-flood", strconv.Itoa(want))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		in.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		in.Close()
		cmd.Wait()
		t.Fatalf("no report from the probe: %v; stderr: %s", err, errb.String())
	}
	var r result
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("probe said %q: %v", line, err)
	}
	t.Logf("inside: %s", r.Detail)
	sent, _ := strconv.Atoi(r.Value)
	// 512 plus one message of 253: the kernel checks before it adds.
	if !r.Safe || r.Errno != "ETOOMANYREFS" || sent > 512+253 {
		t.Errorf("inside: %d descriptors in flight, stopped by %s (%s); want ETOOMANYREFS by 765", sent, r.Errno, r.Detail)
	}
	if !strings.Contains(r.Detail, "RLIMIT_NOFILE 512/512") {
		t.Errorf("inside: %s; want RLIMIT_NOFILE 512/512 (the default profile's max_open_files)", r.Detail)
	}

	// Meanwhile, on the host, the same user passes a descriptor.
	h := harness.RunCmd(e.Command(ctx, probe, "send-fd", "1024"))
	var hr result
	json.Unmarshal([]byte(strings.TrimSpace(h.Stdout)), &hr)
	if !hr.Safe || hr.Errno != "OK" {
		t.Errorf("host program of the same user, soft limit 1024, while the sandbox holds %d in flight: %s (%v)", sent, hr.Detail, h)
	}
}
