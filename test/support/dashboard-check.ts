// Drives the admin dashboard in headless Chromium (Debian `chromium` through playwright-core): opens
// the page at an admin URL, sends traffic through the caller's meshlet and waits — every wait bounded —
// for the rows, the drawn sparklines and the tap events that traffic must produce, then filters and pauses.
import { existsSync } from "node:fs";
import { type Browser, type Page, chromium } from "playwright-core";

export interface TapRequest {
  readonly method: string;
  readonly path: string;
}

export interface DashboardTraffic {
  /** Sends these requests, in order and one after another, through meshlet to the test's backend. */
  send(requests: readonly TapRequest[]): Promise<void>;
  /** The rows the traffic must produce, as the page keys them: "direction authority" ... */
  readonly authorityKeys: readonly string[];
  /** ... and "direction dst route". */
  readonly routeKeys: readonly string[];
}

// The DOM as the functions below use it inside Chromium (page.evaluate); the project compiles without lib "dom".
interface BrowserCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface BrowserRow {
  readonly dataset: Record<string, string | undefined>;
  readonly cells: ArrayLike<{ textContent: string | null }>;
  querySelectorAll(selector: string): Iterable<BrowserCanvas>;
}
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): Iterable<BrowserRow>;
};

const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"];
const WAIT_MS = 20_000;
const PROBE_ATTEMPTS = 40;
const PROBE_GAP_MS = 250;

/** Debian's chromium binary; CHROMIUM_PATH overrides. */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_PATHS;
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`no Chromium at ${candidates.join(", ")}: apt-get install chromium`);
  return found;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}

/** What a check saw, for the test to assert on. */
export interface DashboardReport {
  readonly authorityRows: string[];
  readonly routeRows: string[];
  /** "METHOD path status" of every tap row after each phase. */
  readonly tapRowsUnfiltered: string[];
  /** The tap status line after subscribing with an invalid path regex. */
  readonly refusedFilterStatus: string;
  readonly tapRowsFiltered: string[];
  readonly tapRowsAfterPause: string[];
  /** Uncaught errors and console errors on the page. */
  readonly pageErrors: string[];
}

export async function checkDashboard(adminUrl: string, traffic: DashboardTraffic, browser: Browser): Promise<DashboardReport> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  try {
    await page.goto(adminUrl, { timeout: WAIT_MS });
    await waitFor(page, "the tap view to go live", () => document.querySelector("#tap-status")?.textContent?.startsWith("live") === true);

    // Phase 1: everything — two routes, a failure, and the tap events for each.
    await probeUntilSeen(page, traffic, "/books/probe-live");
    await traffic.send([
      ...Array.from({ length: 6 }, () => ({ method: "GET", path: "/books" })),
      { method: "POST", path: "/books" },
      { method: "GET", path: "/fail" },
    ]);
    for (const key of traffic.authorityKeys) await waitForChartedRow(page, "#authorities", key);
    for (const key of traffic.routeKeys) await waitForChartedRow(page, "#routes", key);
    await waitForTapRow(page, "GET /books 200");
    await waitForTapRow(page, "POST /books 200");
    await waitForTapRow(page, "GET /fail 500");
    const authorityRows = await rowKeys(page, "#authorities");
    const routeRows = await rowKeys(page, "#routes");
    const tapRowsUnfiltered = await tapRows(page);

    // Phase 2: a path regex the proxy refuses is reported on the page ...
    await page.fill("#tap-filter input[name=path]", "(unclosed");
    await page.click("#tap-filter button[type=submit]");
    await waitFor(page, "the refused subscription's error", () => document.querySelector("#tap-status")?.textContent?.startsWith("tap refused the subscription: ") === true);
    const refusedFilterStatus = (await page.textContent("#tap-status")) ?? "";

    // ... then method GET and a valid path regex: only matching requests come through.
    await page.selectOption("#tap-filter select[name=method]", "GET");
    await page.fill("#tap-filter input[name=path]", "/books.*");
    await page.click("#tap-filter button[type=submit]");
    await waitFor(page, "the filtered tap subscription", () => document.querySelector("#tap-status")?.textContent === "live (method GET, path /books.*)");
    await probeUntilSeen(page, traffic, "/books/probe-filter");
    await traffic.send([
      { method: "POST", path: "/books/filtered-out" },
      { method: "GET", path: "/fail" },
      { method: "GET", path: "/books/last" },
    ]);
    await waitForTapRow(page, "GET /books/last 200");
    const tapRowsFiltered = await tapRows(page);

    // Phase 3: paused, the view takes nothing; resumed, it does again.
    await page.click("#tap-pause");
    await waitFor(page, "the paused tap view", () => document.querySelector("#tap-status")?.textContent === "paused");
    await traffic.send([{ method: "GET", path: "/books/while-paused" }]);
    await page.click("#tap-pause");
    await probeUntilSeen(page, traffic, "/books/probe-resumed");
    const tapRowsAfterPause = await tapRows(page);

    return { authorityRows, routeRows, tapRowsUnfiltered, refusedFilterStatus, tapRowsFiltered, tapRowsAfterPause, pageErrors };
  } finally {
    await page.close();
  }
}

/** Waits for a row whose three sparklines have drawn something (a canvas pixel that is not blank). */
async function waitForChartedRow(page: Page, table: string, key: string): Promise<void> {
  await waitFor(
    page,
    `row "${key}" in ${table} with drawn charts`,
    ([table, key]) => {
      const row = [...document.querySelectorAll(`${table} tbody tr`)].find((tr) => tr.dataset.key === key);
      if (row === undefined) return false;
      const canvases = [...row.querySelectorAll("td.chart canvas")];
      const drawn = (canvas: BrowserCanvas) => {
        const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      };
      return canvases.length === 3 && canvases.every(drawn);
    },
    [table, key] as const,
  );
}

async function waitForTapRow(page: Page, text: string): Promise<void> {
  await waitFor(
    page,
    `tap row "${text}"`,
    (text) =>
      [...document.querySelectorAll("#tap tbody tr[data-id]")].some(
        (tr) => `${tr.cells[2]!.textContent} ${tr.cells[4]!.textContent} ${tr.cells[6]!.textContent}` === text,
      ),
    text,
  );
}

/**
 * A new subscription is live once the proxy has read it, which the page cannot see: send a probe
 * request until its tap event arrives (bounded), so that what follows is certainly observed.
 */
async function probeUntilSeen(page: Page, traffic: DashboardTraffic, path: string): Promise<void> {
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    await traffic.send([{ method: "GET", path }]);
    const seen = await page.evaluate((path) => [...document.querySelectorAll("#tap tbody tr[data-id]")].some((tr) => tr.cells[4]!.textContent === path), path);
    if (seen) return;
    await Bun.sleep(PROBE_GAP_MS);
  }
  throw new Error(`the tap view never showed probe ${path} (${PROBE_ATTEMPTS} requests): ${await statusLine(page)}`);
}

async function rowKeys(page: Page, table: string): Promise<string[]> {
  return page.evaluate((table) => [...document.querySelectorAll(`${table} tbody tr`)].map((tr) => tr.dataset.key ?? ""), table);
}

async function tapRows(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("#tap tbody tr[data-id]")].map((tr) => `${tr.cells[2]!.textContent} ${tr.cells[4]!.textContent} ${tr.cells[6]!.textContent}`),
  );
}

async function statusLine(page: Page): Promise<string> {
  const status = await page.evaluate(() => `stats: ${document.querySelector("#stats-status")?.textContent}; tap: ${document.querySelector("#tap-status")?.textContent}`);
  return `${status}; tap rows: ${JSON.stringify((await tapRows(page)).slice(0, 12))}`;
}

/** page.waitForFunction with a message that says what was awaited and what the page said. */
async function waitFor<A>(page: Page, what: string, predicate: (arg: A) => boolean, arg?: A): Promise<void> {
  try {
    await page.waitForFunction(predicate as (arg: unknown) => boolean, arg, { timeout: WAIT_MS, polling: 100 });
  } catch (err) {
    throw new Error(`waited ${WAIT_MS} ms for ${what}: ${(err as Error).message.split("\n")[0]}; ${await statusLine(page).catch(() => "page gone")}`);
  }
}
