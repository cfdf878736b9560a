// `meshlet tap` output: one line per event in the shape of `linkerd viz tap` (req / rsp / end with
// id, proxy direction, src, dst, tls), `-o wide` adding the route and headers, `-o json` one object
// per line. Lines are written as bytes into a LineBuffer (one stdout write per frame, no string per
// line); response and end lines repeat their request's addresses, remembered by id (bounded).
import { LineBuffer, asciiBytes } from "../rt/line-buffer.ts";
import type { TapEndEvent, TapEvent, TapRequestEvent, TapResponseEvent } from "./events.ts";

export type TapOutput = "text" | "wide" | "json";

/** Requests remembered for their response and end lines; beyond it the oldest are forgotten. */
const MAX_OPEN_REQUESTS = 10_000;

// The fixed parts of the lines, encoded once.
const PART = {
  req: asciiBytes("req id="),
  rsp: asciiBytes("rsp id="),
  end: asciiBytes("end id="),
  proxyIn: asciiBytes(" proxy=in  src="),
  proxyOut: asciiBytes(" proxy=out src="),
  dst: asciiBytes(" dst="),
  tls: asciiBytes(" tls="),
  clientId: asciiBytes(" client_id="),
  method: asciiBytes(" :method="),
  authority: asciiBytes(" :authority="),
  path: asciiBytes(" :path="),
  route: asciiBytes(" route="),
  status: asciiBytes(" :status="),
  latency: asciiBytes(" latency="),
  grpcStatus: asciiBytes(" grpc-status="),
  error: asciiBytes(" error="),
  duration: asciiBytes(" duration="),
  responseLength: asciiBytes(" response-length="),
  micros: asciiBytes("µs"),
  bytes: asciiBytes("B"),
  newline: asciiBytes("\n"),
} as const;

/** Turns events into lines; keeps each request until its end event. */
export class TapLineFormatter {
  private readonly open = new Map<number, TapRequestEvent>();

  constructor(private readonly output: TapOutput) {}

  /** Appends the line for `event` and a newline to `out`. */
  write(out: LineBuffer, event: TapEvent): void {
    if (this.output === "json") {
      if (event.type === "end") this.open.delete(event.id);
      out.text(JSON.stringify(event));
    } else {
      switch (event.type) {
        case "request":
          if (this.open.size >= MAX_OPEN_REQUESTS) this.open.delete(this.open.keys().next().value!);
          this.open.set(event.id, event);
          this.requestLine(out, event);
          break;
        case "response":
          this.responseLine(out, event);
          break;
        case "end":
          this.endLine(out, event);
          this.open.delete(event.id);
          break;
        case "dropped":
          out.text(`dropped count=${event.count} (the proxy dropped these events: this client read too slowly)`);
          break;
        case "error":
          out.text(`error code=${event.code} ${event.message}`);
          break;
      }
    }
    out.bytesOf(PART.newline);
  }

  /** The line for `event`, without newline (tests and tools). */
  format(event: TapEvent): string {
    const out = new LineBuffer(256);
    this.write(out, event);
    return new TextDecoder().decode(out.bytes.subarray(0, out.length - 1));
  }

  /** `<kind> id=N`, then the request's direction, addresses and tls when the request is known. */
  private prefix(out: LineBuffer, kind: Uint8Array, id: number): void {
    out.bytesOf(kind);
    out.decimal(id);
    const req = this.open.get(id);
    if (req === undefined) return;
    out.bytesOf(req.direction === "inbound" ? PART.proxyIn : PART.proxyOut);
    out.text(req.source);
    out.bytesOf(PART.dst);
    out.text(req.destination);
    out.bytesOf(PART.tls);
    out.text(req.tls);
  }

  private requestLine(out: LineBuffer, e: TapRequestEvent): void {
    this.prefix(out, PART.req, e.id);
    if (e.clientId !== undefined) {
      out.bytesOf(PART.clientId);
      out.text(e.clientId);
    }
    out.bytesOf(PART.method);
    out.text(e.method);
    out.bytesOf(PART.authority);
    out.text(e.authority);
    out.bytesOf(PART.path);
    out.text(e.path);
    if (this.output !== "wide") return;
    if (e.route !== undefined) {
      out.bytesOf(PART.route);
      out.text(quoted(e.route));
    }
    writeHeaders(out, e.headers);
  }

  private responseLine(out: LineBuffer, e: TapResponseEvent): void {
    this.prefix(out, PART.rsp, e.id);
    out.bytesOf(PART.status);
    out.decimal(e.status);
    out.bytesOf(PART.latency);
    out.decimal(micros(e.sinceRequestMs));
    out.bytesOf(PART.micros);
    if (this.output === "wide") writeHeaders(out, e.headers);
  }

  private endLine(out: LineBuffer, e: TapEndEvent): void {
    this.prefix(out, PART.end, e.id);
    if (e.grpcStatus !== undefined) {
      out.bytesOf(PART.grpcStatus);
      out.decimal(e.grpcStatus);
    }
    if (e.error !== undefined) {
      out.bytesOf(PART.error);
      out.text(e.error);
    }
    out.bytesOf(PART.duration);
    out.decimal(micros(e.sinceRequestMs));
    out.bytesOf(PART.micros);
    out.bytesOf(PART.responseLength);
    out.decimal(e.responseBytes);
    out.bytesOf(PART.bytes);
  }
}

function micros(ms: number): number {
  return Math.max(0, Math.round(ms * 1000));
}

/** A value as is when it has no space, quote or control character; JSON-quoted otherwise. */
function quoted(value: string): string {
  return /^[^\s"\\\x00-\x1f\x7f]*$/.test(value) ? value : JSON.stringify(value);
}

function writeHeaders(out: LineBuffer, headers: readonly (readonly [string, string])[] | undefined): void {
  for (const [name, value] of headers ?? []) out.text(` ${name.toLowerCase()}=${quoted(value)}`);
}
