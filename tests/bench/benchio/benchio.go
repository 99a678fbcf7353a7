// Package benchio is the file I/O the grant benchmarks time, the same for
// every path they compare (native, Airlock's grants, the document portal):
// sequential reads and writes in 1 MiB chunks, reported in GB/s.
package benchio

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Chunk is the size of every read and write.
const Chunk = 1 << 20

// GBps is n bytes in d, in GB/s.
func GBps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e9 }

// ReadFile reads p to its end in Chunk-sized reads and returns the rate.
func ReadFile(p string) (float64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, Chunk)
	start := time.Now()
	var n int64
	for {
		m, err := f.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return GBps(n, time.Since(start)), nil
}

// WriteFile writes size bytes to p (truncated; created when create is set)
// in Chunk-sized writes, then fsyncs: the rates without and with the fsync.
func WriteFile(p string, size int64, create bool) (buffered, synced float64, err error) {
	buf := make([]byte, Chunk)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	flags := os.O_TRUNC | os.O_WRONLY
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(p, flags, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	start := time.Now()
	for off := int64(0); off < size; off += Chunk {
		if _, err := f.Write(buf); err != nil {
			return 0, 0, fmt.Errorf("write %s: %w", p, err)
		}
	}
	b := time.Since(start)
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("fsync %s: %w", p, err)
	}
	return GBps(size, b), GBps(size, time.Since(start)), f.Close()
}
