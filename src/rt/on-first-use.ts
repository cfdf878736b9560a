// Loads a library the first time it is needed (a synchronous `require`, which Bun allows in ES
// modules), so a proxy without resource files never pays for the YAML, schema and regex stacks.
/** A getter that runs `load` once, on its first call, and returns the same value ever after. */
export function onFirstUse<T>(load: () => T): () => T {
  let loaded: { readonly value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
