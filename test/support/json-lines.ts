// Reads a child process's stdout as JSON lines: `next()` resolves with the next line's value, in order,
// or rejects after `timeoutMs` naming `who` (the test drivers of helper processes use it).

export function jsonLineReader(stdout: ReadableStream<Uint8Array>, who: string, timeoutMs: number): () => Promise<unknown> {
  const lines: unknown[] = [];
  const waiters: Array<(line: unknown) => void> = [];
  void (async () => {
    let pending = "";
    for await (const chunk of stdout) {
      pending += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = JSON.parse(pending.slice(0, nl)) as unknown;
        pending = pending.slice(nl + 1);
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      }
    }
  })();
  return () =>
    new Promise<unknown>((resolve, reject) => {
      if (lines.length > 0) return resolve(lines.shift());
      const timer = setTimeout(() => reject(new Error(`${who} said nothing within ${timeoutMs} ms`)), timeoutMs);
      waiters.push((line) => (clearTimeout(timer), resolve(line)));
    });
}
