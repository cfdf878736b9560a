// Boot wiring of MESHLET_ACCESS_LOG: nothing at all when off; otherwise the stderr sink, its drop
// counter and the inbound filter that feeds it.
import type { SomeHttpFilter } from "../http/filter.ts";
import { accessLogFilter } from "./access-log-filter.ts";
import { type AccessLogFormat, type AccessLogRecord, lineFormatFor } from "./access-log-format.ts";
import { AccessLogSink, registerAccessLogMetrics } from "./access-log-sink.ts";

export interface AccessLog {
  readonly filter: SomeHttpFilter;
  readonly sink: AccessLogSink<AccessLogRecord>;
}

export function startAccessLog(format: AccessLogFormat): AccessLog | undefined {
  if (format === "off") return undefined;
  const sink = new AccessLogSink(lineFormatFor(format));
  registerAccessLogMetrics(sink);
  return { filter: accessLogFilter({ sink }), sink };
}
