/*
 * airlock-reaper: the sandbox's pid 1 once the sandbox is built.
 *
 * The airlock init stage (a Go program, launcher/sandbox/init_linux.go)
 * builds the root, drops every capability, installs the seccomp filter and
 * Landlock's scope on its thread, then execs this program instead of
 * staying resident: a Go process holds 7-8 MB resident for the sandbox's
 * whole life, this one about a tenth of a megabyte (tests/bench/RESULTS.md,
 * Launch). It does what init did after that point, nothing more: start the
 * application in a new session, forward the launcher's signals to it, reap
 * every process, and exit with the application's status.
 *
 *	airlock-reaper PATH CWD ARGV0 [ARG...]   (environ is the application's)
 *
 * Everything it runs with was set by init before the exec and survives it:
 * no capabilities in any set, locked securebits, no_new_privs, the seccomp
 * filter, Landlock's scope, RLIMIT_NOFILE, descriptors 0, 1 and 2 only
 * (init marked every other close-on-exec). The exec happens before the
 * application exists, so nothing in the sandbox can reach this process in
 * the moment before it makes itself non-dumpable again (execve resets the
 * dumpable flag).
 *
 * Static, libc only: it must not depend on what the sandbox's /usr holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The exit statuses of launcher/sandbox (init_linux.go). */
enum { EXIT_SETUP = 125, EXIT_NOEXEC = 126, EXIT_NOTFOUND = 127, EXIT_SIGNAL_BASE = 128 };

/* The signals the launcher forwards (run.go), forwarded on to the
 * application. A pid namespace's init receives only the signals it has a
 * handler for (pid_namespaces(7)): without these it would drop them. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t app;

/* say writes "airlock: " and its arguments (up to NULL) to stderr, then a
 * newline. No stdio: it would double this program's resident size. */
static void say(const char *s, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, s);
	(void)!write(2, "airlock: ", 9);
	for (; s != NULL; s = __builtin_va_arg(ap, const char *))
		(void)!write(2, s, strlen(s));
	(void)!write(2, "\n", 1);
	__builtin_va_end(ap);
}

/* errname is errno's name for the common failures, without strerror's
 * locale machinery. */
static const char *errname(int e)
{
	switch (e) {
	case ENOENT: return "No such file or directory";
	case EACCES: return "Permission denied";
	case ENOEXEC: return "Exec format error";
	case ENOTDIR: return "Not a directory";
	case ENOMEM: return "Cannot allocate memory";
	case EAGAIN: return "Resource temporarily unavailable";
	case EPERM: return "Operation not permitted";
	case E2BIG: return "Argument list too long";
	case ELOOP: return "Too many levels of symbolic links";
	case ETXTBSY: return "Text file busy";
	case EISDIR: return "Is a directory";
	}
	return "error";
}

static void forward(int sig)
{
	int saved = errno;
	if (app > 0)
		kill(app, sig);
	errno = saved;
}

int main(int argc, char **argv)
{
	/* First: a process the application may ptrace or read through /proc
	 * must not be pid 1 (hidepid=invisible hides a non-dumpable one). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		say("reaper: cannot make itself non-dumpable: ", errname(errno), NULL);
		return EXIT_SETUP;
	}
	if (argc < 4) {
		say("reaper: usage: airlock-reaper PATH CWD ARGV0 [ARG...]", NULL);
		return EXIT_SETUP;
	}
	sigset_t fwd, none;
	sigemptyset(&fwd);
	sigemptyset(&none);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaddset(&fwd, forwarded[i]);
	/* A signal that comes before the application's pid is known waits
	 * (blocked, pending) and is forwarded once it is. */
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	sa.sa_mask = fwd;
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);

	pid_t pid = fork();
	if (pid < 0) {
		say("cannot run ", argv[3], ": ", errname(errno), NULL);
		return EXIT_NOEXEC;
	}
	if (pid == 0) {
		for (size_t i = 0; i < NFORWARDED; i++)
			signal(forwarded[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* A new session: the application has no controlling terminal to
		 * push input into (CVE-2017-5226, bwrap --new-session). */
		if (setsid() < 0) {
			say("cannot start a new session: ", errname(errno), NULL);
			_exit(EXIT_SETUP);
		}
		if (chdir(argv[2]) != 0) {
			say("cannot run ", argv[3], ": cannot enter ", argv[2], ": ", errname(errno), NULL);
			_exit(EXIT_NOEXEC);
		}
		execve(argv[1], argv + 3, environ);
		int e = errno;
		say("cannot run ", argv[3], ": ", errname(e), NULL);
		_exit(e == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	app = pid;
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			say("reaper: wait: ", errname(errno), NULL);
			return EXIT_SETUP;
		}
		if (w != pid)
			continue; /* an orphan, reaped */
		/* The application is gone: this process exits and the kernel
		 * kills every process left in the pid namespace. */
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return EXIT_SIGNAL_BASE + WTERMSIG(st);
	}
}
