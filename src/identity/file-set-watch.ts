// Notices changes to a few files wherever they live: fs.watch on their directories for speed, plus a
// periodic stat fingerprint (symlinks followed) that catches a Kubernetes Secret volume's `..data`
// symlink swap and anything fs.watch misses. Bursts of events are coalesced into one callback.
import { type FSWatcher, statSync, watch as fsWatch } from "node:fs";
import { dirname } from "node:path";

export interface FileSetWatchOptions {
  /** Fingerprint poll period in ms; default 500. */
  readonly pollIntervalMs?: number;
  /** Delay in ms between the first change event and the callback, coalescing multi-file writes; default 100. */
  readonly debounceMs?: number;
}

export interface FileSetWatch {
  close(): void;
}

/** Calls `onChange` (debounced) after any of `paths` changes, appears or disappears. */
export function watchFileSet(paths: readonly string[], onChange: () => void, options: FileSetWatchOptions = {}): FileSetWatch {
  const debounceMs = options.debounceMs ?? 100;
  let fingerprint = fingerprintOf(paths);
  let pending: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const schedule = (): void => {
    if (closed || pending !== undefined) return;
    pending = setTimeout(() => {
      pending = undefined;
      if (closed) return;
      fingerprint = fingerprintOf(paths); // before reading: a write after this is seen by the next poll
      onChange();
    }, debounceMs);
    pending.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    try {
      const w = fsWatch(dir, { persistent: false }, schedule);
      w.on("error", () => w.close()); // the directory went away: polling still covers it
      watchers.push(w);
    } catch {
      // A missing directory or no fs.watch: polling covers changes.
    }
  }
  const poll = setInterval(() => {
    if (fingerprintOf(paths) !== fingerprint) schedule();
  }, options.pollIntervalMs ?? 500);
  poll.unref();

  return {
    close() {
      closed = true;
      clearInterval(poll);
      if (pending !== undefined) clearTimeout(pending);
      for (const w of watchers) w.close();
    },
  };
}

/** Inode, size and mtime of each file (following symlinks), or "gone". */
function fingerprintOf(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const st = statSync(p);
        return `${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return "gone";
      }
    })
    .join("|");
}
