// proxy_build_info: one series, value 1, labelled with the package version.
import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { registerBuildInfo } from "../../../src/metrics/build-info.ts";
import { VERSION } from "../../../src/version.ts";

test("proxy_build_info carries the version and is 1", async () => {
  const registry = new Registry();
  registerBuildInfo(registry);
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith("proxy_build_info{"));
  expect(line).toContain(`version="${VERSION}"`);
  expect(line).toContain('vendor="meshlet"');
  expect(line).toEndWith(" 1");
});
