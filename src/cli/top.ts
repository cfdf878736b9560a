// `meshlet top`: the tap stream aggregated by path (like linkerd viz top), redrawn in place on a
// terminal every --interval; when stdout is not a terminal, one table per interval and one at the end.
import { parseGoDuration } from "../resources/duration.ts";
import { openTapStream } from "../tap/client.ts";
import { TopTable } from "../tap/top-table.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";
import { TAP_FILTER_OPTIONS, reportStreamEnd, subscriptionOf, tapAddressOf } from "./tap-filters.ts";

const CLEAR_SCREEN = "\x1b[H\x1b[2J";
const MIN_INTERVAL_MS = 100;

export const topCommand = defineCommand(
  {
    name: "top",
    summary: "a running sidecar's requests aggregated by path, refreshing (like linkerd viz top)",
    details:
      "Count, best / worst / last latency and success rate per source, destination, method and path, from\n" +
      "the tap stream (same filters as meshlet tap). Not on a terminal, it prints one table per interval;\n" +
      "--limit and --duration end it (with a final table) for scripts.",
    options: {
      ...TAP_FILTER_OPTIONS,
      interval: { type: "string", valueName: "DURATION", description: "refresh period, e.g. 2s (default 2s)" },
      duration: { type: "string", valueName: "DURATION", description: "stop after this long, e.g. 30s" },
    },
  },
  async (values) => {
    const address = tapAddressOf(values, process.env);
    const subscription = subscriptionOf(values);
    const intervalMs = durationMs("--interval", values.interval ?? "2s");
    const durationLimitMs = values.duration !== undefined ? durationMs("--duration", values.duration) : undefined;
    const table = new TopTable();
    const terminal = process.stdout.isTTY === true;
    const draw = () => process.stdout.write(terminal ? CLEAR_SCREEN + table.render() : table.render() + "\n");

    const stream = await openTapStream(address, subscription, (event) => table.add(event));
    const timer = setInterval(draw, intervalMs);
    const deadline = durationLimitMs !== undefined ? setTimeout(() => stream.close(), durationLimitMs) : undefined;
    const stop = () => stream.close();
    process.once("SIGINT", stop);
    const end = await stream.ended;
    process.off("SIGINT", stop);
    clearInterval(timer);
    clearTimeout(deadline);
    if (end.kind === "closed") draw();
    return reportStreamEnd("top", end);
  },
);

function durationMs(flag: string, text: string): number {
  const parsed = parseGoDuration(text.trim());
  if (!parsed.ok) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${parsed.error} (e.g. 2s, 500ms, 1m)`);
  if (parsed.ms < MIN_INTERVAL_MS) throw new UsageError(`${flag} ${JSON.stringify(text)}: at least ${MIN_INTERVAL_MS}ms`);
  return parsed.ms;
}
