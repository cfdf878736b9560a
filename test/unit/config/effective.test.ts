// effectiveSettings: each setting's value in force and its source, and the redaction rule for secrets
// (a setting marked `secret`, a credential-like name, a password inside a URL).
import { describe, expect, test } from "bun:test";

import { effectiveSettings, isSecretSetting, REDACTED, redactedValue } from "../../../src/config/effective.ts";
import { SETTINGS } from "../../../src/config/env.ts";

describe("effectiveSettings", () => {
  test("every setting once, in table order, from env or default", () => {
    const view = effectiveSettings({ MESHLET_LOG_LEVEL: "debug", HOME: "/root" });
    expect(view.map((s) => s.name)).toEqual(SETTINGS.map((s) => s.name));
    expect(view.find((s) => s.name === "MESHLET_LOG_LEVEL")).toMatchObject({ value: "debug", source: "env" });
    expect(view.find((s) => s.name === "MESHLET_CONNECT_TIMEOUT")).toMatchObject({ value: "1s", source: "default" });
  });

  test("a value given as the empty string is from env, not the default", () => {
    expect(effectiveSettings({ MESHLET_OPAQUE_PORTS: "" }).find((s) => s.name === "MESHLET_OPAQUE_PORTS")).toMatchObject({ value: "", source: "env" });
  });

  test("no setting today is secret, so no value is redacted", () => {
    const env = Object.fromEntries(SETTINGS.map((s) => [s.name, s.defaultText]));
    expect(effectiveSettings(env).filter((s) => s.value === REDACTED)).toEqual([]);
  });
});

describe("the redaction rule", () => {
  test.each([
    [{ name: "MESHLET_INBOUND_LISTEN" }, false],
    [{ name: "MESHLET_IDENTITY_TOKEN" }, true],
    [{ name: "MESHLET_TAP_API_KEY" }, true],
    [{ name: "MESHLET_DB_PASSWORD" }, true],
    [{ name: "MESHLET_CLIENT_SECRET_FILE" }, true],
    [{ name: "MESHLET_TRUST_ANCHORS", secret: true }, true],
    [{ name: "MESHLET_SIGNING_KEY" }, true],
    [{ name: "MESHLET_KEY_FILE" }, true],
    [{ name: "MESHLET_API_KEYS" }, true],
    [{ name: "MESHLET_MONKEY_PATCH" }, false],
    [{ name: "MESHLET_KEYSPACE" }, false],
  ])("%j is secret: %p", (setting, secret) => {
    expect(isSecretSetting(setting)).toBe(secret);
  });

  test("secret names show nothing; other values lose only a URL's password", () => {
    expect(redactedValue("MESHLET_IDENTITY_TOKEN", "abc")).toBe(REDACTED);
    expect(redactedValue("MESHLET_TRACE_COLLECTOR", "http://user:hunter2@collector:4317/v1")).toBe(`http://user:${REDACTED}@collector:4317/v1`);
    expect(redactedValue("MESHLET_TRACE_COLLECTOR", "http://collector:4317")).toBe("http://collector:4317");
  });
});
