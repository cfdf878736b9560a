// The log-level directive (MESHLET_LOG_LEVEL and PUT /proxy-log-level): good directives parse to a
// default level and per-scope levels and print back canonically; bad ones say which item is wrong; a
// new directive applies at once to every logger already handed out.
import { describe, expect, test } from "bun:test";

import { parseConfig } from "../../../src/config/env.ts";
import { ValueError } from "../../../src/config/values.ts";
import { formatLogDirective, parseLogDirective } from "../../../src/log/log-directive.ts";
import { createLogger } from "../../../src/log/logger.ts";

describe("parseLogDirective", () => {
  test.each([
    ["info", { defaultLevel: "info", scopes: {} }, "info"],
    [" TRACE ", { defaultLevel: "trace", scopes: {} }, "trace"],
    ["warn,inbound=debug", { defaultLevel: "warn", scopes: { inbound: "debug" } }, "warn,inbound=debug"],
    ["inbound=debug, admin=INFO", { defaultLevel: "off", scopes: { inbound: "debug", admin: "info" } }, "inbound=debug,admin=info"],
    ["outbound=trace,error,", { defaultLevel: "error", scopes: { outbound: "trace" } }, "error,outbound=trace"],
    ["off,native=warn", { defaultLevel: "off", scopes: { native: "warn" } }, "native=warn"],
  ])("%p", (text, directive, canonical) => {
    const parsed = parseLogDirective(text);
    expect(parsed).toEqual(directive as never);
    expect(formatLogDirective(parsed)).toBe(canonical);
    expect(parseLogDirective(canonical)).toEqual(parsed);
  });

  test.each([
    ["", "a level (off, error, warn, info, debug, trace) and/or comma-separated scope=level items"],
    [" , ", "a level (off, error, warn, info, debug, trace) and/or"],
    ["verbose", 'a level (off, error, warn, info, debug, trace) in "verbose", got "verbose"'],
    ["warn,inbound=loud", 'in "inbound=loud", got "loud"'],
    ["inbond=debug", 'a scope (proxy, inbound, outbound, admin, resources, native, tap, identity) before "=" in "inbond=debug" (did you mean inbound?)'],
    ["linkerd=debug", 'before "=" in "linkerd=debug"'],
    ["=debug", 'before "=" in "=debug"'],
    ["info,debug", 'one default level, got "info" and "debug"'],
    ["inbound=info,inbound=debug", "each scope once, got inbound twice"],
  ])("%p is refused", (text, expected) => {
    let error: unknown;
    try {
      parseLogDirective(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValueError);
    expect((error as ValueError).expected).toContain(expected);
  });

  test("MESHLET_LOG_LEVEL takes the same syntax and reports the same errors", () => {
    expect(parseConfig({ MESHLET_LOG_LEVEL: "warn,outbound=trace" }).logLevel).toEqual(parseLogDirective("warn,outbound=trace"));
    expect(() => parseConfig({ MESHLET_LOG_LEVEL: "warn,outbond=trace" })).toThrow(/MESHLET_LOG_LEVEL="warn,outbond=trace": expected a scope .*did you mean outbound\?/);
  });
});

describe("a directive applied at run time", () => {
  test("reaches scoped loggers handed out before the change, per scope", () => {
    const lines: string[] = [];
    const root = createLogger(parseLogDirective("info"), "json", (l) => lines.push(l));
    const inbound = root.scoped("inbound");
    const outbound = root.scoped("outbound");
    expect([inbound.enabled("debug"), outbound.enabled("info")]).toEqual([false, true]);
    inbound.debug("before");

    root.setDirective(parseLogDirective("warn,inbound=debug"));
    expect(formatLogDirective(root.directive)).toBe("warn,inbound=debug");
    expect([inbound.enabled("debug"), inbound.enabled("trace"), outbound.enabled("info"), outbound.enabled("warn")]).toEqual([true, false, false, true]);
    expect(root.enabled("info")).toBe(false); // unscoped lines follow the default level
    inbound.debug("after");
    outbound.info("hidden");
    root.scoped("inbound").scoped("admin").warn("admin warn"); // re-scoped: admin follows the default (warn)

    root.setDirective(parseLogDirective("inbound=error"));
    inbound.debug("gone again");
    root.warn("unscoped: off");
    inbound.error("kept");
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(["after", "admin warn", "kept"]);
  });
});
