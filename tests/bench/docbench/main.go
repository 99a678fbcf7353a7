// Command docbench measures the document store against the host file system
// in the same run: warm sequential read of a large file, sequential write
// (buffered, then with fsync) and open+stat+close latency. Started as root it
// re-executes itself as the ordinary user airlock-test, as the broker runs.
package main

import (
	"airlock/tests/bench/benchio"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"airlock/portal/docstore"
	"airlock/portal/grants"
	"airlock/tests/asuser"
)

var (
	sizeMiB = flag.Int("size", 512, "file size in MiB")
	iters   = flag.Int("n", 20000, "open+stat+close iterations")
	dirFlag = flag.String("dir", "", "folder for the test files (default: $TMPDIR)")
	hold    = flag.Duration("hold", 0, "after writing, keep the store mounted this long and print the paths (for perf)")
	probe   = flag.Bool("probe-passthrough", false, "only report whether this user's FUSE server may use FUSE passthrough")
)

func main() {
	flag.Parse()
	if os.Getuid() == 0 && !asuser.IsChild() {
		code, err := asuser.Run(os.Args[1:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "docbench:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "docbench:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := *dirFlag
	if dir == "" {
		dir = os.TempDir()
	}
	dir, err := os.MkdirTemp(dir, "docbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *probe {
		return probePassthrough(dir)
	}
	mnt := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "airlock", "doc")
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		mnt = filepath.Join(dir, "mnt")
	}
	s, err := docstore.Mount(mnt, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer s.Close()
	reg := grants.New(nil, s)
	view, err := reg.AddSandbox(grants.Sandbox{ID: "bench"})
	if err != nil {
		return err
	}
	size := int64(*sizeMiB) << 20
	fmt.Printf("docbench: %d MiB file on %s, uid %d, store at %s\n\n", *sizeMiB, dir, os.Getuid(), mnt)

	// Writes.
	nativeW := filepath.Join(dir, "native-write.bin")
	nb, nf, err := benchio.WriteFile(nativeW, size, true)
	if err != nil {
		return err
	}
	g, err := reg.Grant("bench", filepath.Join(dir, "store-write.bin"), grants.Save, true)
	if err != nil {
		return err
	}
	sb, sf, err := benchio.WriteFile(filepath.Join(view, g.DocID, g.Name()), size, true)
	if err != nil {
		return err
	}

	// Reads: the native file, directly and through a read-only grant.
	rg, err := reg.Grant("bench", nativeW, grants.Open, false)
	if err != nil {
		return err
	}
	inside := filepath.Join(view, rg.DocID, rg.Name())
	if _, err := benchio.ReadFile(nativeW); err != nil { // warm the host page cache
		return err
	}
	cold, err := benchio.ReadFile(inside) // first read through FUSE: fills the FUSE inode's cache
	if err != nil {
		return err
	}
	nr, err := best(3, func() (float64, error) { return benchio.ReadFile(nativeW) })
	if err != nil {
		return err
	}
	sr, err := best(3, func() (float64, error) { return benchio.ReadFile(inside) })
	if err != nil {
		return err
	}

	if *hold > 0 {
		fmt.Printf("HOLD native=%s store=%s\n", nativeW, inside)
		time.Sleep(*hold)
	}

	// Latency.
	nl, err := openStatClose(nativeW, *iters)
	if err != nil {
		return err
	}
	sl, err := openStatClose(inside, *iters)
	if err != nil {
		return err
	}

	fmt.Printf("%-34s %12s %12s %8s\n", "", "native", "store", "ratio")
	row := func(name string, n, s float64, unit string) {
		fmt.Printf("%-34s %9.2f %-2s %9.2f %-2s %7.2fx\n", name, n, unit, s, unit, s/n)
	}
	row("warm sequential read", nr, sr, "GB/s")
	row("first read via store (host warm)", nr, cold, "GB/s")
	row("sequential write, buffered", nb, sb, "GB/s")
	row("sequential write incl. fsync", nf, sf, "GB/s")
	row("open+stat+close", nl, sl, "µs")
	return nil
}

func best(n int, fn func() (float64, error)) (float64, error) {
	var r []float64
	for range n {
		v, err := fn()
		if err != nil {
			return 0, err
		}
		r = append(r, v)
	}
	sort.Float64s(r)
	return r[len(r)-1], nil
}

// openStatClose returns the mean time of stat + open + close in µs.
func openStatClose(p string, n int) (float64, error) {
	start := time.Now()
	for range n {
		if _, err := os.Stat(p); err != nil {
			return 0, err
		}
		f, err := os.Open(p)
		if err != nil {
			return 0, err
		}
		f.Close()
	}
	return float64(time.Since(start).Microseconds()) / float64(n), nil
}
