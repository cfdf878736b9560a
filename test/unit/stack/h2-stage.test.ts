// The HTTP/2 stage loads the h2 engine on first use: a proxy that only sees HTTP/1 never loads
// src/h2/ (~2 MB of RSS, bench/RESULTS.md Footprint). Checked in a fresh process, since the test
// runner's own process may have loaded the engine for other tests.
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

test("neither importing the proxy nor making its HTTP/2 stages loads the h2 engine; the first use does, and the engine works", async () => {
  const out = await inFreshProcess(`
    const modulesBefore = Object.keys(require.cache).length;
    const config = parseConfig({});
    const chain = staticChain(new FilterChain([]));
    const inbound = h2Stage(config, "inbound", chain, silentLogger);
    const outbound = h2Stage(config, "outbound", chain, silentLogger);
    const atStart = h2Modules();
    const open = inbound.server.openConnections;
    const afterFirstUse = h2Modules();
    await inbound.server.drain(100);
    inbound.server.close();
    console.log(JSON.stringify({ modulesBefore, atStart, open, afterFirstUse, sameServer: inbound.server === inbound.server, distinct: inbound.server !== outbound.server }));
  `);
  const r = JSON.parse(out);
  expect(r.modulesBefore).toBeGreaterThan(20); // the proxy's own modules are listed: the probe sees ES modules
  expect(r.atStart).toBe(0);
  expect(r.open).toBe(0);
  expect(r.afterFirstUse).toBeGreaterThan(0);
  expect(r.sameServer).toBe(true);
  expect(r.distinct).toBe(true);
});
