// Process exit codes (BSD sysexits, as linkerd2-proxy uses for a bad environment). One place, so the
// CLI and the proxy boot agree on what each code means.

/** EX_USAGE: a bad command line, environment or config directory. */
export const EXIT_USAGE = 64;
/** EX_OSERR: a listener could not be bound. */
export const EXIT_CANNOT_LISTEN = 71;
/** EX_UNAVAILABLE: a server the command needs (admin server, Prometheus, tap server) cannot be reached. */
export const EXIT_UNAVAILABLE = 69;
/** EX_PROTOCOL: that server answered something the command cannot read. */
export const EXIT_PROTOCOL = 76;
