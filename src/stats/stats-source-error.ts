// Why `meshlet stat` / `meshlet routes` got no rows: the admin server or Prometheus could not be
// reached, or answered something that is not what we asked for. Stable codes; the CLI maps them to
// an exit code and one line in one place (src/cli/stats-source.ts).

export type StatsSourceErrorCode =
  | "MESHLET_ERR_STATS_UNREACHABLE" // connection refused, DNS failure, timeout
  | "MESHLET_ERR_STATS_BAD_ANSWER"; // an HTTP error, or a body that is not the expected JSON

export class StatsSourceError extends Error {
  constructor(
    readonly code: StatsSourceErrorCode,
    message: string,
  ) {
    super(message);
  }
}
