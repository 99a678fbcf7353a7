package print

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"airlock/chooser-ui/protocol"
)

// Job is one document for CUPS.
type Job struct {
	Printer string
	Title   string // the job's name: "SANDBOX: application's title"
	Options []string
	Doc     *os.File
}

// Submitter hands a job to CUPS and returns its id.
type Submitter interface {
	// Available reports whether CUPS has the printer, accepting jobs.
	Available(ctx context.Context, printer string) error
	Submit(ctx context.Context, j Job) (string, error)
}

// ErrNoPrinter is a printer that is gone (or never was).
var ErrNoPrinter = errors.New("the printer is not available")

// LP submits with CUPS' own lp and checks printers with lpstat, both of
// which honour CUPS_SERVER and ~/.cups/client.conf. The broker never
// links libcups: a process per job, as for the dialog.
type LP struct{}

const cupsTimeout = 60 * time.Second

// Available asks lpstat whether the queue exists and accepts jobs.
func (LP) Available(ctx context.Context, printer string) error {
	if !protocol.ValidPrinterName(printer) {
		return fmt.Errorf("%w: bad name %q", ErrNoPrinter, printer)
	}
	ctx, cancel := context.WithTimeout(ctx, cupsTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "lpstat", "-a", printer).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s: %s", ErrNoPrinter, printer, strings.TrimSpace(string(out)))
	}
	if !bytes.Contains(out, []byte("accepting requests")) || bytes.Contains(out, []byte("not accepting")) {
		return fmt.Errorf("%w: %s does not accept jobs", ErrNoPrinter, printer)
	}
	return nil
}

var requestID = regexp.MustCompile(`request id is (\S+)`)

// Submit runs lp with the document on its stdin.
func (LP) Submit(ctx context.Context, j Job) (string, error) {
	if !protocol.ValidPrinterName(j.Printer) {
		return "", fmt.Errorf("%w: bad name %q", ErrNoPrinter, j.Printer)
	}
	ctx, cancel := context.WithTimeout(ctx, cupsTimeout)
	defer cancel()
	args := []string{"-d", j.Printer, "-t", j.Title}
	for _, o := range j.Options {
		args = append(args, "-o", o)
	}
	cmd := exec.CommandContext(ctx, "lp", args...)
	cmd.Stdin = j.Doc
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("lp: %v: %s", err, strings.TrimSpace(out.String()))
	}
	m := requestID.FindStringSubmatch(out.String())
	if m == nil {
		return "", fmt.Errorf("lp answered no job id: %s", strings.TrimSpace(out.String()))
	}
	return m[1], nil
}

// mediaName is what CUPS accepts as media: a PWG or PPD paper name.
var mediaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// lpOptions maps the dialog's choice to lp options. Only what the printer
// does: copies, page ranges, page set, scale, n-up, reverse and collation
// are the application's to render (GTK's portal client applies them to the
// PDF it sends, gtkprintoperation-portal.c, because the dialog offers them
// as manual capabilities), and orientation is already in the page sizes;
// passing them again would apply them twice.
func lpOptions(r *protocol.PrintResult) []string {
	var o []string
	media := r.PageSetup.PPDName
	if media == "" {
		media = r.PageSetup.Name
	}
	// A custom size has no name CUPS knows ("custom" made its filters
	// crop to NaN): the printer's default paper then.
	if mediaName.MatchString(media) && !strings.HasPrefix(strings.ToLower(media), "custom") {
		o = append(o, "media="+media)
	}
	switch r.Settings["duplex"] {
	case "simplex":
		o = append(o, "sides=one-sided")
	case "horizontal":
		o = append(o, "sides=two-sided-short-edge")
	case "vertical":
		o = append(o, "sides=two-sided-long-edge")
	}
	switch r.Settings["use-color"] {
	case "false":
		o = append(o, "print-color-mode=monochrome")
	case "true":
		o = append(o, "print-color-mode=color")
	}
	switch r.Settings["quality"] {
	case "draft":
		o = append(o, "print-quality=3")
	case "normal":
		o = append(o, "print-quality=4")
	case "high":
		o = append(o, "print-quality=5")
	}
	return o
}
