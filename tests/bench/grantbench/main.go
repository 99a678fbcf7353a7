// Command grantbench measures what an application does with a granted file:
// warm sequential reads, open+stat+close, sequential writes. tests/bench/grants.sh
// runs the same binary on the host (native path), inside an Airlock sandbox
// (the file at /run/user/UID/doc/<id>/<name>, served by the broker's document
// store) and on the Flatpak document portal's view of the file. It prints
// key=value lines; it asserts nothing. Built static (CGO_ENABLED=0) so that it
// runs inside a sandbox when handed in with `airlock run --ro`.
//
//	grantbench fs [-read-reps R] [-reps R] [-n N] [-hold D] FILE   read, open+stat+close, write FILE
//	grantbench docadd -app APP FILE                 Documents.Add + GrantPermissions (document portal)
//	grantbench folios FILE                          page-cache folio sizes of FILE (needs CAP_SYS_ADMIN)
package main

import (
	"airlock/tests/bench/benchio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "grantbench: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: grantbench fs|docadd|folios ...")
	}
	switch os.Args[1] {
	case "fs":
		cmdFS(os.Args[2:])
	case "docadd":
		cmdDocAdd(os.Args[2:])
	case "folios":
		cmdFolios(os.Args[2:])
	default:
		die("unknown command %q", os.Args[1])
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func list(v []float64, format string) string {
	var b []string
	for _, x := range v {
		b = append(b, fmt.Sprintf(format, x))
	}
	return strings.Join(b, ",")
}

// cmdFS: reads first (the file as it is), then open+stat+close, then
// writes (which rewrite the file with the same size).
func cmdFS(args []string) {
	fs := flag.NewFlagSet("fs", flag.ExitOnError)
	reps := fs.Int("reps", 5, "measured runs of each write figure")
	readReps := fs.Int("read-reps", 15, "measured full reads")
	n := fs.Int("n", 20000, "open+stat+close iterations")
	hold := fs.Duration("hold", 0, "after measuring, print \"held\" and stay this long (the caller inspects the page cache)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		die("fs: one FILE")
	}
	p := fs.Arg(0)
	st, err := os.Stat(p)
	if err != nil {
		die("%v", err)
	}
	size := st.Size()
	fmt.Printf("file path=%s size_mib=%d\n", p, size>>20)

	// Reads: the first warms whatever cache sits in front of the file.
	first, err := benchio.ReadFile(p)
	if err != nil {
		die("%v", err)
	}
	var reads []float64
	for range *readReps {
		v, err := benchio.ReadFile(p)
		if err != nil {
			die("%v", err)
		}
		reads = append(reads, v)
	}
	fmt.Printf("read first_gbps=%.3f gbps=%.3f best_gbps=%.3f runs=%s\n", first, median(reads), slicesMax(reads), list(reads, "%.2f"))

	// stat(path) + open(O_RDONLY) + close, timed one by one.
	lat := make([]float64, 0, *n)
	t0 := time.Now()
	for range *n {
		s := time.Now()
		if _, err := os.Stat(p); err != nil {
			die("%v", err)
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			die("open %s: %v", p, err)
		}
		unix.Close(fd)
		lat = append(lat, float64(time.Since(s).Nanoseconds())/1e3)
	}
	mean := float64(time.Since(t0).Nanoseconds()) / 1e3 / float64(*n)
	sort.Float64s(lat)
	fmt.Printf("stat n=%d p50_us=%.2f p10_us=%.2f p90_us=%.2f mean_us=%.2f\n", *n, lat[len(lat)/2], lat[len(lat)/10], lat[len(lat)*9/10], mean)

	// Where that time goes: stat(path) alone, open+close alone (N/2 each).
	p50 := func(fn func() error) float64 {
		l := make([]float64, 0, *n/2)
		for range *n / 2 {
			s := time.Now()
			if err := fn(); err != nil {
				die("%v", err)
			}
			l = append(l, float64(time.Since(s).Nanoseconds())/1e3)
		}
		return median(l)
	}
	so := p50(func() error { _, err := os.Stat(p); return err })
	oc := p50(func() error {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	})
	fmt.Printf("split stat_p50_us=%.2f open_close_p50_us=%.2f\n", so, oc)

	// Writes: O_TRUNC then size bytes in 1 MiB writes (buffered), then fsync.
	// -reps 0 skips them (a read-only grant).
	if *reps == 0 {
		if *hold > 0 {
			fmt.Println("held")
			time.Sleep(*hold)
		}
		return
	}
	var wb, wf []float64
	for range *reps {
		b, f, err := benchio.WriteFile(p, size, false)
		if err != nil {
			die("%v", err)
		}
		wb = append(wb, b)
		wf = append(wf, f)
	}
	fmt.Printf("write buffered_gbps=%.3f fsync_gbps=%.3f runs_buffered=%s runs_fsync=%s\n", median(wb), median(wf), list(wb, "%.2f"), list(wf, "%.2f"))
	if st, err := os.Stat(p); err != nil || st.Size() != size {
		die("after the writes %s is not %d bytes: %v", p, size, err)
	}
	if *hold > 0 {
		fmt.Println("held")
		time.Sleep(*hold)
	}
}

// cmdDocAdd adds FILE to xdg-document-portal as docportal.sh's doc_add.py
// does: Add(h O_PATH fd, reuse_existing, persistent), GrantPermissions to
// APP (read, write), GetMountPoint. Prints doc_id= host_path= app_path=.
func cmdDocAdd(args []string) {
	fs := flag.NewFlagSet("docadd", flag.ExitOnError)
	app := fs.String("app", "org.airlock.Bench", "application id to grant the document to")
	fs.Parse(args)
	if fs.NArg() != 1 {
		die("docadd: one FILE")
	}
	p, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		die("%v", err)
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		die("session bus: %v", err)
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		die("open %s: %v", p, err)
	}
	const name, iface = "org.freedesktop.portal.Documents", "org.freedesktop.portal.Documents"
	obj := conn.Object(name, "/org/freedesktop/portal/documents")
	var doc string
	if err := obj.Call(iface+".Add", 0, dbus.UnixFD(fd), true, true).Store(&doc); err != nil {
		die("Documents.Add: %v", err)
	}
	unix.Close(fd)
	if err := obj.Call(iface+".GrantPermissions", 0, doc, *app, []string{"read", "write"}).Err; err != nil {
		die("Documents.GrantPermissions: %v", err)
	}
	var mp []byte
	if err := obj.Call(iface+".GetMountPoint", 0).Store(&mp); err != nil {
		die("Documents.GetMountPoint: %v", err)
	}
	mount := strings.TrimRight(string(mp), "\x00")
	base := filepath.Base(p)
	fmt.Printf("doc_id=%s host_path=%s/%s/%s app_path=%s/by-app/%s/%s/%s\n", doc, mount, doc, base, mount, *app, doc, base)
}

// cmdFolios reads FILE through one descriptor (filling its page cache, or
// finding it filled), maps it and looks every page up in /proc/self/pagemap
// and /proc/kpageflags: how many pages sit in compound (large) folios, and
// the folio sizes. Needs CAP_SYS_ADMIN (PFNs) and read access to
// /proc/kpageflags; grants.sh runs it as the user with those two capabilities
// so that the user's FUSE mounts let it in.
func cmdFolios(args []string) {
	if len(args) != 1 {
		die("folios: one FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	buf := make([]byte, benchio.Chunk)
	var size int64
	for {
		m, err := f.Read(buf)
		size += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			die("read: %v", err)
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		die("mmap: %v", err)
	}
	defer unix.Munmap(mem)
	pg := os.Getpagesize()
	var sum byte
	for off := 0; off < len(mem); off += pg {
		sum += mem[off] // fault every page in (already cached: no I/O)
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		die("%v", err)
	}
	defer pm.Close()
	kf, err := os.Open("/proc/kpageflags")
	if err != nil {
		die("%v", err)
	}
	defer kf.Close()
	npages := len(mem) / pg
	ents := make([]byte, 8*npages)
	base := uint64(uintptr(unsafePointer(mem))) / uint64(pg)
	if _, err := pm.ReadAt(ents, int64(base*8)); err != nil {
		die("pagemap: %v", err)
	}
	const (
		kpfHead = 15
		kpfTail = 16
		kpfTHP  = 22
	)
	var present, heads, tails, thp, zeroPFN int
	hist := map[int]int{} // folio size in pages -> count (runs of head+tails)
	run := 0
	flush := func() {
		if run > 0 {
			hist[run]++
		}
		run = 0
	}
	one := make([]byte, 8)
	for i := range npages {
		e := binary.LittleEndian.Uint64(ents[8*i:])
		if e>>63 == 0 {
			flush()
			continue
		}
		present++
		pfn := e & (1<<55 - 1)
		if pfn == 0 {
			zeroPFN++
			continue
		}
		if _, err := kf.ReadAt(one, int64(pfn*8)); err != nil {
			die("kpageflags: %v", err)
		}
		fl := binary.LittleEndian.Uint64(one)
		switch {
		case fl&(1<<kpfHead) != 0:
			heads++
			flush()
			run = 1
		case fl&(1<<kpfTail) != 0:
			tails++
			if run > 0 {
				run++
			}
		default:
			flush()
			hist[1]++
		}
		if fl&(1<<kpfTHP) != 0 {
			thp++
		}
	}
	flush()
	if zeroPFN == present {
		die("pagemap shows no PFNs: CAP_SYS_ADMIN is missing")
	}
	sizes := make([]int, 0, len(hist))
	for k := range hist {
		sizes = append(sizes, k)
	}
	sort.Ints(sizes)
	var h []string
	for _, k := range sizes {
		h = append(h, fmt.Sprintf("%dKiB:%d", k*pg/1024, hist[k]))
	}
	fmt.Printf("folios pages=%d present=%d compound_heads=%d compound_tails=%d order0=%d thp=%d folio_sizes=%s (sum %d)\n",
		npages, present, heads, tails, present-heads-tails, thp, strings.Join(h, ","), sum)
}

func slicesMax(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
