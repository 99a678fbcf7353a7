package broker

import (
	"context"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
	portalprint "airlock/portal/print"
)

// printConfig is the print portal's machinery: the session's dialog pool
// (print mode of airlock-chooser), the installed launcher for the
// throwaway sanitiser sandbox, and CUPS' lp.
func (b *Broker) printConfig() portalprint.Config {
	cfg := portalprint.Config{
		Dialog: func(ctx context.Context, req protocol.Request) (protocol.Response, error) { return b.dialog(ctx, req) },
		CUPS:   portalprint.LP{},
		Notice: func(summary, body string) { b.notice(i18n.T("Airlock printing"), summary, body) },
	}
	b.printOnce.Do(func() {
		if bin, err := portalprint.LauncherBinary(); err == nil {
			b.sanitizer = &portalprint.LauncherSanitizer{Launcher: bin}
		} else {
			b.log.Warn("documents cannot be sanitised: printing works only for profiles with print_sanitize = \"none\"", "err", err)
		}
	})
	if b.sanitizer != nil {
		cfg.Sanitizer = b.sanitizer
	}
	return cfg
}
