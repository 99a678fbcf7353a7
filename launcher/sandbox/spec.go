// Package sandbox starts one application in one unprivileged sandbox: the host
// side (Prepare, Run) computes the sandbox as a Plan and re-executes the
// airlock binary as the sandbox's init inside new user, mount, pid, ipc, uts,
// net and cgroup namespaces; the init side (InitMain) runs the plan's ops to
// build the root file system, drops every privilege, installs the seccomp
// filter and runs the application as its child.
package sandbox

// InitArg0 is argv[0] of the re-executed init stage; main dispatches on it
// before doing anything else (as runc's init.go does).
const InitArg0 = "airlock-init"

// What the init stage is handed. The Plan travels in init's environment, not
// a pipe: init reads it at once, without waiting for the launcher to write
// (one wake-up less per launch). Init's environment is readable only with
// ptrace access to init, which nothing in the sandbox has (init is
// non-dumpable before the application exists), and the application gets an
// environment of its own.
const (
	envPlan   = "AIRLOCK_INIT_PLAN"
	fdControl = 3 // the launcher's channel (channel_linux.go)
)
