// Package sandbox starts one application in one unprivileged sandbox: the host
// side (Start) re-executes the airlock binary as the sandbox's init inside new
// user, mount, pid, ipc, uts, net and cgroup namespaces; the init side
// (InitMain) builds the root file system, drops every privilege, installs the
// seccomp filter and runs the application as its child.
package sandbox

// InitArg0 is argv[0] of the re-executed init stage; main dispatches on it
// before doing anything else (as runc's init.go does).
const InitArg0 = "airlock-init"

// What the init stage is handed. The Spec travels in init's environment, not
// a pipe: init reads it at once, without waiting for the launcher to write
// (one wake-up less per launch). Init's environment is readable only with
// ptrace access to init, which nothing in the sandbox has (init is
// non-dumpable before the application exists), and the application gets an
// environment of its own.
const (
	envSpec   = "AIRLOCK_INIT_SPEC"
	fdControl = 3 // a unix socketpair: init sends descriptors out, the host sends "go"
)

// Bind is one host path made visible in the sandbox.
type Bind struct {
	Src string `json:"src"` // host path, resolved by the host side
	Dst string `json:"dst"` // path inside the sandbox
	RW  bool   `json:"rw,omitempty"`
	Dev bool   `json:"dev,omitempty"` // device nodes (only /dev/dri when the GPU is granted)
	// Optional binds are skipped when the source is missing (or, for an
	// Exact one, reached through a symlink).
	Optional bool `json:"optional,omitempty"`
	// Exact: Src is used as given, never resolved again by the launcher
	// (a restored grant, checked by the broker): a symlink on its way now
	// was planted since, and init refuses to follow it.
	Exact bool `json:"exact,omitempty"`
}

// Spec is everything init needs, decided on the host side. Init trusts it: it
// comes from the launcher through a pipe that only init inherits.
type Spec struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Profile string   `json:"profile"`
	UID     int      `json:"uid"`
	GID     int      `json:"gid"`
	User    string   `json:"user"`
	Home    string   `json:"home"` // path of $HOME inside, a private tmpfs unless persisted
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Cwd     string   `json:"cwd"`

	Hostname  string `json:"hostname"`
	MachineID string `json:"machine_id"` // 32 hex digits
	BootID    string `json:"boot_id"`    // a UUID

	// Binds in order; each destination's parents are created.
	Binds []Bind `json:"binds"`
	// Dirs are extra empty folders to create (mount points for docs).
	Dirs []string `json:"dirs,omitempty"`

	// TorListener asks init to listen on 127.0.0.1:9050 inside and hand the
	// listening socket to the host side, which forwards each connection to
	// the host's Tor SOCKS port.
	TorListener bool `json:"tor_listener,omitempty"`
	// BusSocket asks init to create the sandbox's D-Bus socket at
	// $XDG_RUNTIME_DIR/bus and hand the listening socket to the host side,
	// which gives it to the broker.
	BusSocket bool `json:"bus_socket,omitempty"`
	// ShareNet: the host network namespace is kept (net = host).
	ShareNet bool `json:"share_net,omitempty"`
	// Handshake: init reports "ready" and waits for the launcher's "go"
	// (needed when the launcher has something to do first: hand the bus
	// socket to the broker, forward Tor). Without it the application
	// starts as soon as the sandbox is built.
	Handshake bool `json:"handshake,omitempty"`
	// NativeGrants: init keeps the two threads that bind read-only grants
	// into the running sandbox (only with a broker to ask for them).
	NativeGrants bool `json:"native_grants,omitempty"`
}

// Control messages on fdControl, host to init.
const (
	msgGo    = 'g'
	msgAbort = 'a'
)

// Descriptor tags, init to host, sent with SCM_RIGHTS.
const (
	tagTor   = "tor"
	tagBus   = "bus"
	tagReady = "ready"
)
