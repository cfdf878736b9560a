// The logger's output: JSON and plain lines with a scope and the fields, the level threshold (trace
// above debug), enabled() for hot-path guards, and rate-limited warn lines that say what they held back.
import { describe, expect, test } from "bun:test";

import type { LogLevel } from "../../../src/config/env.ts";
import { createLogger, silentLogger } from "../../../src/log/logger.ts";
import { RateLimitedLog } from "../../../src/log/rate-limited-log.ts";

function recorder(level: LogLevel, format: "json" | "plain" = "json") {
  const lines: string[] = [];
  const logger = createLogger(level, format, (l) => lines.push(l));
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  test("JSON lines carry level, scope, the stable message and the fields", () => {
    const { logger, json } = recorder("info");
    logger.scoped("outbound").warn("request failed", { status: 502, target: "127.0.0.1:1", absent: undefined });
    logger.info("meshlet ready", { inbound: "127.0.0.1:4143" });
    const [failed, ready] = json();
    expect(failed).toMatchObject({ level: "warn", scope: "outbound", message: "request failed", status: 502, target: "127.0.0.1:1" });
    expect("absent" in failed!).toBe(false);
    expect(typeof failed!.timestamp).toBe("string");
    expect(ready).toMatchObject({ level: "info", message: "meshlet ready", inbound: "127.0.0.1:4143" });
    expect("scope" in ready!).toBe(false); // unscoped
  });

  test("plain lines: LEVEL [scope] message key=value, quoting values with spaces", () => {
    const { logger, lines } = recorder("info", "plain");
    logger.scoped("resources").error("config error", { problem: "a.yaml:1:2: error: bad", line: 1 });
    expect(lines[0]).toMatch(/^\S+ ERROR \[resources\] config error problem="a\.yaml:1:2: error: bad" line=1\n$/);
  });

  test("a scoped logger keeps the level; re-scoping replaces the scope", () => {
    const { logger, json } = recorder("warn");
    const inbound = logger.scoped("outbound").scoped("inbound");
    inbound.info("not written");
    inbound.warn("written");
    expect(json()).toEqual([expect.objectContaining({ scope: "inbound", message: "written" })]);
  });

  test("trace shows more than debug", () => {
    const atDebug = recorder("debug");
    const atTrace = recorder("trace");
    for (const { logger } of [atDebug, atTrace]) {
      logger.debug("d");
      logger.trace("t");
    }
    expect(atDebug.json().map((l) => l.message)).toEqual(["d"]);
    expect(atTrace.json().map((l) => [l.level, l.message])).toEqual([["debug", "d"], ["trace", "t"]]);
    expect([atDebug.logger.enabled("trace"), atTrace.logger.enabled("trace"), atDebug.logger.enabled("debug")]).toEqual([false, true, true]);
  });

  test("off writes nothing; the silent logger is off and scopes to itself", () => {
    const { logger, lines } = recorder("off");
    logger.error("x");
    expect(lines).toEqual([]);
    expect(logger.enabled("error")).toBe(false);
    expect(silentLogger.scoped("native")).toBe(silentLogger);
    expect(silentLogger.enabled("error")).toBe(false);
  });
});

describe("RateLimitedLog", () => {
  test("200 failures → the budget's lines, then one line that says how many were suppressed", () => {
    const clock = { ms: 0, nowMs: () => clock.ms };
    const { logger, json } = recorder("info");
    const log = new RateLimitedLog(logger.scoped("outbound"), clock, { linesPerInterval: 2, intervalMs: 10_000 });
    for (let i = 0; i < 200; i++) log.warn("refused 127.0.0.1:1", "request failed", { target: "127.0.0.1:1" });
    log.warn("refused 127.0.0.1:2", "request failed", { target: "127.0.0.1:2" });
    expect(json().map((l) => [l.target, l.suppressed])).toEqual([["127.0.0.1:1", undefined], ["127.0.0.1:1", undefined], ["127.0.0.1:2", undefined]]);

    clock.ms = 10_000;
    log.warn("refused 127.0.0.1:1", "request failed", { target: "127.0.0.1:1" });
    expect(json().at(-1)).toMatchObject({ level: "warn", scope: "outbound", message: "request failed", target: "127.0.0.1:1", suppressed: 198 });
    log.close();
  });

  test("lines still held back when the interval ends are reported by the summary", () => {
    const clock = { ms: 0, nowMs: () => clock.ms };
    const { logger, json } = recorder("warn");
    const log = new RateLimitedLog(logger.scoped("inbound"), clock, { linesPerInterval: 1, intervalMs: 1_000 });
    for (let i = 0; i < 5; i++) log.warn("k", "tcp connection failed", {});
    log.flush();
    expect(json()).toHaveLength(1); // the interval is not over
    clock.ms = 1_000;
    log.flush();
    expect(json().at(-1)).toMatchObject({ scope: "inbound", message: "repeated log lines suppressed", key: "k", suppressed: 4, intervalMs: 1_000 });
    log.close();
  });

  test("below warn level nothing is counted or written", () => {
    const { logger, lines } = recorder("error");
    const log = new RateLimitedLog(logger, { nowMs: () => 0 });
    log.warn("k", "m", {});
    log.flush(true);
    expect([lines, log.enabled]).toEqual([[], false]);
  });
});
