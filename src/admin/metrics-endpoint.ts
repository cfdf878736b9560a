// GET /metrics: the registry in the Prometheus text format, gzipped when the scraper's Accept-Encoding
// admits gzip (as linkerd2-proxy does); a render failure is a 500 with the reason.
import type { Logger } from "../log/logger.ts";
import { renderMetrics } from "../metrics/registry.ts";

const CONTENT_TYPE = "text/plain; version=0.0.4";

export async function metricsEndpoint(request: Request, log: Logger): Promise<Response> {
  let body: string;
  try {
    body = await renderMetrics();
  } catch (err) {
    log.error("metrics render failed", { error: (err as Error).message });
    return new Response(`metrics: ${(err as Error).message}\n`, { status: 500, headers: { "content-type": "text/plain" } });
  }
  if (!acceptsGzip(request.headers.get("accept-encoding"))) {
    return new Response(body, { headers: { "content-type": CONTENT_TYPE, vary: "accept-encoding" } });
  }
  return new Response(Bun.gzipSync(Buffer.from(body)), {
    headers: { "content-type": CONTENT_TYPE, "content-encoding": "gzip", vary: "accept-encoding" },
  });
}

/** Accept-Encoding lists gzip (or x-gzip) without q=0. */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null) return false;
  return acceptEncoding.split(",").some((item) => {
    const [coding = "", ...params] = item.split(";").map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    return (coding === "gzip" || coding === "x-gzip") && (q === undefined || Number(q.slice(2)) > 0);
  });
}
