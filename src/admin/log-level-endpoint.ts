// /proxy-log-level (linkerd-behavior §6): loopback clients only; GET answers the directive in force,
// PUT with a new directive (src/log/log-directive.ts) applies it at once to every logger (204), or
// answers 400 with the parse error and keeps the old one. Other methods: 405.
import { ValueError } from "../config/values.ts";
import { formatLogDirective, type LogDirective, parseLogDirective } from "../log/log-directive.ts";
import type { Logger, RootLogger } from "../log/logger.ts";
import { NOT_LOCALHOST_TEXT, isLoopbackPeer } from "./loopback-peer.ts";

/** The part of the process logger this endpoint reads and turns. */
export type LogLevelControl = Pick<RootLogger, "directive" | "setDirective">;

/** A directive is a short line; a larger body is refused unread. */
const MAX_DIRECTIVE_BYTES = 4096;

export async function logLevelEndpoint(request: Request, peer: string, control: LogLevelControl | undefined, log: Logger): Promise<Response> {
  if (control === undefined) return new Response(null, { status: 404 });
  if (!isLoopbackPeer(peer)) {
    log.warn("log level request refused: not from loopback", { peer });
    return text(403, NOT_LOCALHOST_TEXT);
  }
  switch (request.method) {
    case "GET":
      return text(200, `${formatLogDirective(control.directive)}\n`);
    case "PUT": {
      const declared = Number(request.headers.get("content-length") ?? "0");
      if (declared > MAX_DIRECTIVE_BYTES) return text(413, `a log level directive of at most ${MAX_DIRECTIVE_BYTES} bytes\n`);
      const body = (await request.text()).trim();
      let directive: LogDirective;
      try {
        directive = parseLogDirective(body);
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        return text(400, `invalid log level directive ${JSON.stringify(body)}: expected ${err.expected}\n`);
      }
      const from = formatLogDirective(control.directive);
      control.setDirective(directive);
      log.info("log level changed", { from, to: formatLogDirective(directive), peer });
      return new Response(null, { status: 204 });
    }
    default:
      return new Response(null, { status: 405, headers: { allow: "GET, PUT" } });
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}
