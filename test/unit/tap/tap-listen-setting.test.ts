// MESHLET_TAP_LISTEN: Linkerd's tap port on loopback by default, `off` to disable, and a located error
// that says both forms for anything else.
import { expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../../src/config/env.ts";

test("the tap server listens on 127.0.0.1:4190 by default, anywhere given, nowhere with off", () => {
  expect(parseConfig({}).tapListen).toEqual({ host: "127.0.0.1", port: 4190 });
  expect(parseConfig({ MESHLET_TAP_LISTEN: "[::1]:0" }).tapListen).toEqual({ host: "::1", port: 0 });
  expect(parseConfig({ MESHLET_TAP_LISTEN: " OFF " }).tapListen).toBeNull();
});

test("a bad address names the setting and both accepted forms", () => {
  let caught: unknown;
  try {
    parseConfig({ MESHLET_TAP_LISTEN: "localhost:4190" });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).message).toContain('MESHLET_TAP_LISTEN="localhost:4190": expected a numeric IP address and port, e.g. 127.0.0.1:4140 or [::]:4143, or off');
});
