// Protocol detection outcomes as Linkerd counts them: {inbound,outbound}_tcp_detect_http_results_total
// {result="http/1"|"http/2"|"not_http"|"read_timeout"}; meshlet adds "tls" (a ClientHello was seen),
// "mesh_tls" (a ClientHello for this workload's identity, terminated in TypeScript) and "opaque"
// (detection skipped because the destination port is opaque).
import { Counter } from "../metrics/prom-client.ts";

import { Protocol, native } from "../native/binding.ts";
import { registry } from "../metrics/registry.ts";
import { DIRECTIONS } from "./front-door.ts";

export const PROTOCOL_RESULT: Readonly<Record<number, string>> = {
  [Protocol.Http1]: "http/1",
  [Protocol.Http2]: "http/2",
  [Protocol.Tls]: "tls",
  [Protocol.NotHttp]: "not_http",
  [Protocol.MeshTls]: "mesh_tls",
  [Protocol.DetectTimeout]: "read_timeout",
  [Protocol.Opaque]: "opaque",
};

export function registerDetectMetrics(): void {
  for (const [index, direction] of DIRECTIONS.entries()) {
    new Counter({
      name: `${direction}_tcp_detect_http_results_total`,
      help: `Protocol detection results of ${direction} connections`,
      labelNames: ["result"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [d, protocol, count] of native.detectResults()) {
          if (d === index) this.inc({ result: PROTOCOL_RESULT[protocol] ?? "error" }, count);
        }
      },
    });
  }
}
