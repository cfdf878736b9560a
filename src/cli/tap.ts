// `meshlet tap`: live request events from a running sidecar's tap server, one line per request,
// response and end, as `linkerd viz tap` prints them (-o wide adds route and headers, -o json raw events).
import { LineBuffer } from "../rt/line-buffer.ts";
import { openTapStream } from "../tap/client.ts";
import { TapLineFormatter } from "../tap/tap-lines.ts";
import { defineCommand } from "./command.ts";
import { StdoutFrames } from "./stdout-frames.ts";
import { TAP_FILTER_OPTIONS, reportStreamEnd, subscriptionOf, tapAddressOf } from "./tap-filters.ts";

export const tapCommand = defineCommand(
  {
    name: "tap",
    summary: "stream a running sidecar's requests live (like linkerd viz tap); filters apply in the proxy",
    details:
      "Connects to the tap server (MESHLET_TAP_LISTEN, loopback only) and prints req / rsp / end lines until\n" +
      "--limit requests have ended or Ctrl-C. Authorization, Cookie and similar header values are never sent.\n" +
      "Exits 64 if the proxy refuses a filter, 69 if the tap server cannot be reached.",
    options: {
      ...TAP_FILTER_OPTIONS,
      output: { type: "string", short: "o", valueName: "FORMAT", choices: ["text", "wide", "json"], description: "text (default), wide (adds route and headers) or json (one event per line)" },
    },
  },
  async (values) => {
    const address = tapAddressOf(values, process.env);
    // Header lines cost the proxy most of an event: asked for only when they are shown.
    const subscription = { ...subscriptionOf(values), ...(values.output === "wide" || values.output === "json" ? { headers: true } : {}) };
    const formatter = new TapLineFormatter(values.output === "wide" ? "wide" : values.output === "json" ? "json" : "text");
    // One write per frame (the events of one flush interval), not per line.
    const lines = new LineBuffer(64 * 1024);
    const out = new StdoutFrames();
    const stream = await openTapStream(
      address,
      subscription,
      (event) => formatter.write(lines, event),
      () => {
        if (!out.write(lines)) stream.close(); // the reader left (e.g. `| head`): done
      },
    );
    const stop = () => stream.close();
    process.once("SIGINT", stop);
    const end = await stream.ended;
    process.off("SIGINT", stop);
    return reportStreamEnd("tap", end);
  },
);
