// `meshlet tap` output: one line per event in the shape of `linkerd viz tap` (req / rsp / end with
// id, proxy direction, src, dst, tls), `-o wide` adding the route and headers, `-o json` one object
// per line. Response and end lines repeat their request's addresses, remembered by id (bounded).
import type { TapEndEvent, TapEvent, TapRequestEvent, TapResponseEvent } from "./events.ts";

export type TapOutput = "text" | "wide" | "json";

/** Requests remembered for their response and end lines; beyond it the oldest are forgotten. */
const MAX_OPEN_REQUESTS = 10_000;

/** Turns events into lines; keeps each request until its end event. */
export class TapLineFormatter {
  private readonly open = new Map<number, TapRequestEvent>();

  constructor(private readonly output: TapOutput) {}

  /** The line for `event` (without newline). */
  format(event: TapEvent): string {
    if (this.output === "json") {
      if (event.type === "end") this.open.delete(event.id);
      return JSON.stringify(event);
    }
    switch (event.type) {
      case "request":
        if (this.open.size >= MAX_OPEN_REQUESTS) this.open.delete(this.open.keys().next().value!);
        this.open.set(event.id, event);
        return this.requestLine(event);
      case "response":
        return this.responseLine(event);
      case "end": {
        const line = this.endLine(event);
        this.open.delete(event.id);
        return line;
      }
      case "dropped":
        return `dropped count=${event.count} (the proxy dropped these events: this client read too slowly)`;
      case "error":
        return `error code=${event.code} ${event.message}`;
    }
  }

  private prefix(kind: string, id: number): string {
    const req = this.open.get(id);
    if (req === undefined) return `${kind} id=${id}`;
    return `${kind} id=${id} proxy=${req.direction === "inbound" ? "in " : "out"} src=${req.source} dst=${req.destination} tls=${req.tls}`;
  }

  private requestLine(e: TapRequestEvent): string {
    let line = `${this.prefix("req", e.id)}${e.clientId !== undefined ? ` client_id=${e.clientId}` : ""} :method=${e.method} :authority=${e.authority} :path=${e.path}`;
    if (this.output === "wide") line += `${e.route !== undefined ? ` route=${quoted(e.route)}` : ""}${headersText(e.headers ?? [])}`;
    return line;
  }

  private responseLine(e: TapResponseEvent): string {
    const line = `${this.prefix("rsp", e.id)} :status=${e.status} latency=${micros(e.sinceRequestMs)}µs`;
    return this.output === "wide" ? line + headersText(e.headers ?? []) : line;
  }

  private endLine(e: TapEndEvent): string {
    let line = this.prefix("end", e.id);
    if (e.grpcStatus !== undefined) line += ` grpc-status=${e.grpcStatus}`;
    if (e.error !== undefined) line += ` error=${e.error}`;
    return `${line} duration=${micros(e.sinceRequestMs)}µs response-length=${e.responseBytes}B`;
  }
}

function micros(ms: number): number {
  return Math.max(0, Math.round(ms * 1000));
}

/** A value as is when it has no space, quote or control character; JSON-quoted otherwise. */
function quoted(value: string): string {
  return /^[^\s"\\\x00-\x1f\x7f]*$/.test(value) ? value : JSON.stringify(value);
}

function headersText(headers: readonly (readonly [string, string])[]): string {
  let text = "";
  for (const [name, value] of headers) text += ` ${name.toLowerCase()}=${quoted(value)}`;
  return text;
}
