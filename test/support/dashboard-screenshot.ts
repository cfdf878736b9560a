// Regenerates docs/dashboard.png (`node_modules/.bin/bun test/support/dashboard-screenshot.ts`): a real
// meshlet serves the page, the contract fake feeds it 40 s of a bookstore's traffic mix (two outbound
// services, one inbound port, a few failing routes), and headless Chromium photographs the result.
import { join } from "node:path";

import { launchChromium } from "./dashboard-check.ts";
import { type RecordedExchange, startFakeObservability } from "./fake-observability.ts";
import { startProxy } from "./proxy.ts";

const OUTPUT = join(import.meta.dir, "..", "..", "docs", "dashboard.png");
const DURATION_MS = 40_000;
const TICK_MS = 100;

interface Endpoint {
  readonly direction: "inbound" | "outbound";
  readonly authority: string;
  readonly destination: string;
  readonly route: string;
  readonly method: string;
  readonly paths: readonly string[];
  /** Requests per second, failure ratio and typical latency. */
  readonly rps: number;
  readonly failureRatio: number;
  readonly latencyMs: number;
}

const BOOKS = "books.default.svc.cluster.local:8080";
const AUTHORS = "authors.default.svc.cluster.local:7001";
const INBOUND = "10.42.0.17:9080";

const MIX: readonly Endpoint[] = [
  { direction: "outbound", authority: BOOKS, destination: "10.42.1.8:8080", route: "GET /books", method: "GET", paths: ["/books", "/books?genre=sf"], rps: 9, failureRatio: 0, latencyMs: 4 },
  { direction: "outbound", authority: BOOKS, destination: "10.42.1.9:8080", route: "GET /books/{id}", method: "GET", paths: ["/books/17", "/books/42", "/books/1001"], rps: 6, failureRatio: 0.01, latencyMs: 7 },
  { direction: "outbound", authority: BOOKS, destination: "10.42.1.8:8080", route: "POST /books", method: "POST", paths: ["/books"], rps: 1.2, failureRatio: 0.12, latencyMs: 22 },
  { direction: "outbound", authority: AUTHORS, destination: "10.42.2.3:7001", route: "GET /authors/{id}", method: "GET", paths: ["/authors/3", "/authors/8"], rps: 4, failureRatio: 0.03, latencyMs: 12 },
  { direction: "outbound", authority: AUTHORS, destination: "10.42.2.3:7001", route: "[DEFAULT]", method: "GET", paths: ["/healthz"], rps: 0.5, failureRatio: 0, latencyMs: 1 },
  { direction: "inbound", authority: INBOUND, destination: "127.0.0.1:9080", route: "GET /", method: "GET", paths: ["/", "/?page=2"], rps: 5, failureRatio: 0.02, latencyMs: 35 },
];

const proxy = await startProxy({});
const fake = startFakeObservability(`http://127.0.0.1:${proxy.adminPort}`);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(fake.adminUrl);
  let random = 12345; // a fixed LCG: the same picture every time
  const next = () => ((random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let t = 0; t < DURATION_MS; t += TICK_MS) {
    const wave = 1 + 0.5 * Math.sin((t / DURATION_MS) * 2 * Math.PI * 2);
    for (const e of MIX) {
      if (next() >= (e.rps * wave * TICK_MS) / 1000) continue;
      const failed = next() < e.failureRatio * (t > DURATION_MS * 0.6 ? 3 : 1);
      const exchange: RecordedExchange = {
        direction: e.direction,
        authority: e.authority,
        destination: e.destination,
        route: e.route,
        method: e.method,
        path: e.paths[Math.floor(next() * e.paths.length)]!,
        status: failed ? 503 : e.method === "POST" ? 201 : 200,
        latencyMs: e.latencyMs * (0.5 + next() * (next() < 0.05 ? 6 : 1.2)),
        requestBytes: e.method === "POST" ? 230 : 0,
        responseBytes: failed ? 0 : 400 + Math.floor(next() * 4000),
      };
      fake.record(exchange);
    }
    await Bun.sleep(TICK_MS);
  }
  await Bun.sleep(3500); // one more refresh of the tables
  await page.screenshot({ path: OUTPUT });
  console.log(`wrote ${OUTPUT}`);
} finally {
  await browser.close();
  fake.stop();
  await proxy.stop();
}
