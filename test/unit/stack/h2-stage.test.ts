// The HTTP/2 stage loads the h2 engine on first use: a proxy that only sees HTTP/1 never loads
// src/h2/ (~2 MB of RSS, bench/RESULTS.md Footprint), not even to drain at shutdown. Checked in a
// fresh process, since the test runner's own process may have loaded the engine for other tests.
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..", "..");

/** Runs `body` in a fresh bun with the proxy's entry module imported; returns what it printed. */
async function inFreshProcess(body: string): Promise<string> {
  const script = `
    import "${root}/src/main.ts";
    import { h2Stage } from "${root}/src/stack/h2.ts";
    import { parseConfig } from "${root}/src/config/env.ts";
    import { FilterChain, staticChain } from "${root}/src/http/filter.ts";
    import { silentLogger } from "${root}/src/log/logger.ts";
    const h2Modules = () => Object.keys(require.cache).filter((path) => path.includes("/src/h2/")).length;
    ${body}`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe", cwd: root });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`fresh process exited with ${code}: ${err}`);
  return out.trim();
}

test("importing the proxy, making its HTTP/2 stages, draining and closing an unused one load no h2 module; the first use does", async () => {
  const out = await inFreshProcess(`
    const modulesBefore = Object.keys(require.cache).length;
    const config = parseConfig({});
    const chain = staticChain(new FilterChain([]));
    const inbound = h2Stage(config, "inbound", chain, silentLogger);
    const outbound = h2Stage(config, "outbound", chain, silentLogger);
    const atStart = h2Modules();
    const openUnused = inbound.server.openConnections;
    await inbound.server.drain(100);
    inbound.server.close();
    const afterUnusedDrain = h2Modules();
    const pool = outbound.server.pool;
    const afterFirstUse = h2Modules();
    const openUsed = outbound.server.openConnections;
    const samePool = outbound.server.pool === pool;
    await outbound.server.drain(100);
    outbound.server.close();
    console.log(JSON.stringify({ modulesBefore, atStart, openUnused, afterUnusedDrain, afterFirstUse, openUsed, samePool }));
  `);
  const r = JSON.parse(out);
  expect(r.modulesBefore).toBeGreaterThan(20); // the proxy's own modules are listed: the probe sees ES modules
  expect(r.atStart).toBe(0);
  expect(r.openUnused).toBe(0);
  expect(r.afterUnusedDrain).toBe(0);
  expect(r.afterFirstUse).toBeGreaterThan(0);
  expect(r.openUsed).toBe(0);
  expect(r.samePool).toBe(true);
});
