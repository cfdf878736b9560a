// One clock read per socket callback: inside a callback every timestamp the engine takes (a request's
// start, dispatch, response head and end; a connection's last activity) is the time of the callback's
// first read, as HAProxy reads its clock once per poll loop; outside one (timers, sweeps) each read is fresh.
export class CallbackClock {
  private depth = 0;
  private cached = false;
  private cachedMs = 0;

  constructor(private readonly read: () => number) {}

  /** Milliseconds on the wrapped clock: the callback's one reading, or a fresh one outside callbacks. */
  readonly nowMs = (): number => {
    if (this.depth === 0) return this.read();
    if (!this.cached) {
      this.cachedMs = this.read();
      this.cached = true;
    }
    return this.cachedMs;
  };

  /** A socket callback begins (pair with exit() in a finally): its timestamps share one reading. */
  enter(): void {
    if (this.depth++ === 0) this.cached = false;
  }

  exit(): void {
    this.depth--;
  }
}
