// One GET on an HTTP/2 client session (node:http2), for tests that go through a meshlet's h2 listeners:
// the status, the body as text and l5d-proxy-error ("" when absent).
import type * as http2 from "node:http2";

export interface H2Answer {
  readonly status: number;
  readonly body: string;
  readonly proxyError: string;
}

/** GET / on `session` with `:authority` = `authority` and `headers` besides. */
export function h2Get(session: http2.ClientHttp2Session, authority: string, headers: Record<string, string> = {}): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "GET", ":path": "/", ":authority": authority, ...headers });
    let status = 0;
    let proxyError = "";
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      status = Number(h[":status"]);
      proxyError = String(h["l5d-proxy-error"] ?? "");
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString(), proxyError }));
    req.on("error", reject);
  });
}
