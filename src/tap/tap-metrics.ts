// tap_dropped_events_total: events not sent to slow tap subscribers, read from the hub's counter at
// scrape time (no prom-client call per drop).
import { Counter } from "../metrics/prom-client.ts";
import { registry } from "../metrics/registry.ts";
import type { TapHub } from "./hub.ts";

export function registerTapMetrics(hub: TapHub): void {
  let reported = 0;
  new Counter({
    name: "tap_dropped_events_total",
    help: "Tap events dropped because a subscriber read too slowly (it is sent a `dropped` notice with the count when it catches up)",
    registers: [registry],
    collect() {
      this.inc(hub.droppedEvents - reported);
      reported = hub.droppedEvents;
    },
  });
}
