// parseConfig: defaults, every setting's invalid values reported together with name/value/expectation,
// unknown MESHLET_* names rejected with a hint, and README's table generated from SETTINGS.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { ConfigError, SETTINGS, parseConfig, settingsMarkdown } from "../../../src/config/env.ts";

function problemsOf(env: Record<string, string>) {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("defaults", () => {
  const config = parseConfig({});
  test("listeners and targets", () => {
    expect(config.inboundListen).toEqual({ host: "0.0.0.0", port: 4143 });
    expect(config.inboundForward).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.outboundListen).toEqual({ host: "127.0.0.1", port: 4140 });
    expect(config.adminListen).toEqual({ host: "127.0.0.1", port: 4191 });
    expect(config.outboundUpstreams).toEqual([]);
  });
  test("timeouts and ports", () => {
    expect(config.detectTimeoutMs).toBe(10_000);
    expect(config.connectTimeoutMs).toBe(1_000);
    expect(config.tcpIdleTimeoutMs).toBe(0);
    expect(config.shutdownGracePeriodMs).toBe(30_000);
    expect([...config.opaquePorts].sort((a, b) => a - b)).toEqual([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);
  });
  test("keepalive and user timeout as Linkerd's injector sets them", () => {
    expect(config.inboundAcceptKeepaliveMs).toBe(10_000);
    expect(config.outboundConnectKeepaliveMs).toBe(10_000);
    expect(config.inboundConnectKeepaliveMs).toBe(0);
    expect(config.outboundAcceptKeepaliveMs).toBe(0);
    expect(config.tcpUserTimeoutMs).toBe(30_000);
  });
  test("is frozen", () => {
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe("valid values", () => {
  test.each([
    ["MESHLET_DETECT_TIMEOUT", "500ms", "detectTimeoutMs", 500],
    ["MESHLET_DETECT_TIMEOUT", "1m", "detectTimeoutMs", 60_000],
    ["MESHLET_DETECT_TIMEOUT", " 2h ", "detectTimeoutMs", 7_200_000],
    ["MESHLET_TCP_IDLE_TIMEOUT", "off", "tcpIdleTimeoutMs", 0],
    ["MESHLET_TCP_IDLE_TIMEOUT", "0", "tcpIdleTimeoutMs", 0],
    ["MESHLET_TCP_IDLE_TIMEOUT", "30s", "tcpIdleTimeoutMs", 30_000],
    ["MESHLET_LOG_FORMAT", "JSON", "logFormat", "json"],
    ["MESHLET_SPLICE_PIPE_SIZE", "1MiB", "splicePipeBytes", 1048576],
    ["MESHLET_SPLICE_PIPE_SIZE", "65536", "splicePipeBytes", 65536],
    ["MESHLET_SPLICE_PIPE_SIZE", "64kib", "splicePipeBytes", 65536],
    ["MESHLET_INBOUND_ACCEPT_KEEPALIVE", "off", "inboundAcceptKeepaliveMs", 0],
    ["MESHLET_OUTBOUND_ACCEPT_KEEPALIVE", "1s", "outboundAcceptKeepaliveMs", 1_000],
    ["MESHLET_INBOUND_CONNECT_KEEPALIVE", "9h", "inboundConnectKeepaliveMs", 32_400_000],
    ["MESHLET_TCP_USER_TIMEOUT", "off", "tcpUserTimeoutMs", 0],
    ["MESHLET_TCP_USER_TIMEOUT", "3s", "tcpUserTimeoutMs", 3_000],
  ] as const)("%s=%s", (name, value, field, expected) => {
    expect(parseConfig({ [name]: value })[field]).toBe(expected);
  });

  test("port ranges, blanks ignored", () => {
    const ports = parseConfig({ MESHLET_OPAQUE_PORTS: "8000-8002, ,9000" }).opaquePorts;
    expect([...ports]).toEqual([8000, 8001, 8002, 9000]);
  });

  test("IPv6 listen and hostname destinations", () => {
    const config = parseConfig({ MESHLET_INBOUND_LISTEN: "[::]:4143", MESHLET_OUTBOUND_UPSTREAMS: "127.0.0.1:16379=redis.internal:6379, [::1]:1=10.0.0.1:2" });
    expect(config.inboundListen).toEqual({ host: "::", port: 4143 });
    expect(config.outboundUpstreams).toEqual([
      { listen: { host: "127.0.0.1", port: 16379 }, destination: { host: "redis.internal", port: 6379 } },
      { listen: { host: "::1", port: 1 }, destination: { host: "10.0.0.1", port: 2 } },
    ]);
  });
});

describe("invalid values are each reported with name, value and expectation", () => {
  test.each([
    ["MESHLET_INBOUND_LISTEN", "localhost:4143"],
    ["MESHLET_INBOUND_LISTEN", "0.0.0.0"],
    ["MESHLET_INBOUND_LISTEN", "0.0.0.0:70000"],
    ["MESHLET_INBOUND_FORWARD", "127.0.0.1:0"],
    ["MESHLET_INBOUND_FORWARD", "bad host:80"],
    ["MESHLET_OUTBOUND_LISTEN", "256.0.0.1:4140"],
    ["MESHLET_OUTBOUND_UPSTREAMS", "127.0.0.1:1"],
    ["MESHLET_OUTBOUND_UPSTREAMS", "127.0.0.1:1=nowhere"],
    ["MESHLET_ADMIN_LISTEN", ":4191"],
    ["MESHLET_OPAQUE_PORTS", "10-5"],
    ["MESHLET_OPAQUE_PORTS", "http"],
    ["MESHLET_OPAQUE_PORTS", "0"],
    ["MESHLET_DETECT_TIMEOUT", "10"],
    ["MESHLET_DETECT_TIMEOUT", "-1s"],
    ["MESHLET_DETECT_TIMEOUT", "1.5s"],
    ["MESHLET_CONNECT_TIMEOUT", "fast"],
    ["MESHLET_TCP_IDLE_TIMEOUT", "never"],
    ["MESHLET_SHUTDOWN_GRACE_PERIOD", "99999d"],
    ["MESHLET_LOG_LEVEL", "verbose"],
    ["MESHLET_LOG_FORMAT", "xml"],
    ["MESHLET_SPLICE_PIPE_SIZE", "1GiB"],
    ["MESHLET_SPLICE_PIPE_SIZE", "100"],
    ["MESHLET_SPLICE_PIPE_SIZE", "32MiB"],
    ["MESHLET_OUTBOUND_CONNECT_KEEPALIVE", "10h"],
    ["MESHLET_INBOUND_ACCEPT_KEEPALIVE", "often"],
    ["MESHLET_TCP_USER_TIMEOUT", "30"],
  ])("%s=%s", (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.name).toBe(name);
    expect(problems[0]!.value).toBe(value);
    expect(problems[0]!.expected.length).toBeGreaterThan(5);
  });

  test("several problems are reported at once, in one error message", () => {
    try {
      parseConfig({ MESHLET_DETECT_TIMEOUT: "x", MESHLET_LOG_LEVEL: "loud", MESHLET_ADMIN_LISTEN: "nope" });
      throw new Error("expected a ConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.problems.map((p) => p.name).sort()).toEqual(["MESHLET_ADMIN_LISTEN", "MESHLET_DETECT_TIMEOUT", "MESHLET_LOG_LEVEL"]);
      for (const name of ["MESHLET_ADMIN_LISTEN", "MESHLET_DETECT_TIMEOUT", "MESHLET_LOG_LEVEL"]) expect(e.message).toContain(name);
    }
  });

  test("an unknown MESHLET_ name is rejected with a suggestion", () => {
    const problems = problemsOf({ MESHLET_DETECT_TIMOUT: "1s" });
    expect(problems[0]!.name).toBe("MESHLET_DETECT_TIMOUT");
    expect(problems[0]!.expected).toContain("MESHLET_DETECT_TIMEOUT");
  });

  test("variables without the prefix are ignored", () => {
    expect(problemsOf({ PATH: "/bin", LINKERD2_PROXY_LOG: "debug" })).toEqual([]);
  });
});

test("README's configuration table is the one generated from SETTINGS", () => {
  const readme = readFileSync(join(import.meta.dir, "..", "..", "..", "README.md"), "utf8");
  expect(readme).toContain(settingsMarkdown());
  for (const s of SETTINGS) expect(readme).toContain(`\`${s.name}\``);
});
