// A value that changes over time (Linkerd's `watch::Receiver`): readers take the latest with get(),
// or subscribe to each change. The configuration generation in force is published this way.

export interface Watch<T> {
  get(): T;
  /** Calls `listener` after each change (not for the current value). Returns an unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
}

/** The writable side: set() swaps the value (one pointer) and tells the subscribers. */
export class WatchCell<T> implements Watch<T> {
  #value: T;
  readonly #listeners = new Set<(value: T) => void>();

  constructor(initial: T) {
    this.#value = initial;
  }

  get(): T {
    return this.#value;
  }

  set(value: T): void {
    this.#value = value;
    for (const listener of [...this.#listeners]) listener(value);
  }

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
