// The tap filter is in the request chains only while somebody listens: no subscriber, no tap filter
// (nothing built for tap); the first subscriber adds it on the next request, the last one leaving removes it.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { inboundChain } from "../../../src/inbound/filters.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { outboundChain } from "../../../src/outbound/filters.ts";
import { loadConfigDir } from "../../../src/resources/config-dir.ts";
import { TapHub, type TapSink } from "../../../src/tap/hub.ts";
import { parseSubscription } from "../../../src/tap/subscription.ts";

const clock = { nowMs: () => 0 };
const root = mkdtempSync(join(tmpdir(), "meshlet-tap-chain-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function generation() {
  const config = parseConfig({});
  const result = loadConfigDir(root, { kinds: resourceKinds(config, clock) });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return { config, snapshot: result.snapshot };
}

const sink: TapSink = { sendBinary: () => 1, getBufferedAmount: () => 0, close: () => {} };

test("inbound and outbound chains hold no tap filter without a subscriber, and one while somebody listens", async () => {
  const { config, snapshot } = generation();
  const hub = new TapHub();
  const inbound = inboundChain(config, { get: () => snapshot }, clock, { tap: hub });
  const outbound = outboundChain(config, { get: () => snapshot }, clock, silentLogger, hub);

  expect(inbound.get().names).not.toContain("tap");
  expect(outbound.get().names).not.toContain("tap");
  const chainBefore = inbound.get();
  expect(inbound.get()).toBe(chainBefore); // compiled once, not per request

  const first = hub.subscribe(sink, parseSubscription("{}"));
  expect(inbound.get().names).toEqual(["l5d-client-id", "authorize", "tap"]);
  expect(outbound.get().names[0]).toBe("tap");

  const second = hub.subscribe(sink, parseSubscription('{"method":"GET"}'));
  const withTwo = inbound.get();
  hub.unsubscribe(first);
  expect(inbound.get()).toBe(withTwo); // one listener left: the same chain

  hub.unsubscribe(second);
  expect(inbound.get().names).not.toContain("tap");
  expect(outbound.get().names).not.toContain("tap");
});

test("without a tap hub (MESHLET_TAP_LISTEN=off) the chains are the plain ones", () => {
  const { config, snapshot } = generation();
  expect(inboundChain(config, { get: () => snapshot }, clock).get().names).toEqual(["l5d-client-id", "authorize"]);
  expect(outboundChain(config, { get: () => snapshot }, clock, silentLogger).get().names).toEqual(["l5d-peer-errors", "l5d-require-id"]);
});
