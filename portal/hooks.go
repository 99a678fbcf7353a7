package main

import (
	"log/slog"

	"airlock/portal/broker"
)

// hooks installs the portals that live beside Settings on every sandbox bus.
func hooks(log *slog.Logger) broker.Hooks {
	return broker.Hooks{}
}
