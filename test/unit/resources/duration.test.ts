// Go's time.ParseDuration, case by case (the table mirrors Go's own parseDurationTests).
import { describe, expect, test } from "bun:test";

import { parseGoDuration } from "../../../src/resources/duration.ts";

describe("valid", () => {
  test.each<[string, bigint]>([
    ["0", 0n],
    ["5s", 5_000_000_000n],
    ["30s", 30_000_000_000n],
    ["1478s", 1_478_000_000_000n],
    ["-5s", -5_000_000_000n],
    ["+5s", 5_000_000_000n],
    ["-0", 0n],
    ["+0", 0n],
    ["5.0s", 5_000_000_000n],
    ["5.6s", 5_600_000_000n],
    ["5.s", 5_000_000_000n],
    [".5s", 500_000_000n],
    ["1.0s", 1_000_000_000n],
    ["1.00s", 1_000_000_000n],
    ["1.004s", 1_004_000_000n],
    ["1.0040s", 1_004_000_000n],
    ["100.00100s", 100_001_000_000n],
    ["10ns", 10n],
    ["11us", 11_000n],
    ["12\u00b5s", 12_000n],
    ["12\u03bcs", 12_000n],
    ["13ms", 13_000_000n],
    ["14s", 14_000_000_000n],
    ["15m", 900_000_000_000n],
    ["16h", 57_600_000_000_000n],
    ["3h30m", 12_600_000_000_000n],
    ["10.5s4m", 250_500_000_000n],
    ["-2m3.4s", -123_400_000_000n],
    ["1h2m3s4ms5us6ns", 3_723_004_005_006n],
    ["39h9m14.425s", 140_954_425_000_000n],
    ["52763797000ns", 52_763_797_000n],
    ["0.3333333333333333333h", 1_200_000_000_000n],
    ["9007199254740993ns", 9_007_199_254_740_993n],
    ["9223372036854775807ns", 9_223_372_036_854_775_807n],
    ["-9223372036854775808ns", -9_223_372_036_854_775_808n],
    ["0.100000000000000000000h", 360_000_000_000n],
  ])("%s", (input, ns) => {
    const r = parseGoDuration(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.ns).toBe(ns);
  });

  test("milliseconds as a float", () => {
    const r = parseGoDuration("1500us");
    expect(r.ok && r.ms).toBe(1.5);
    const t = parseGoDuration("1m30s");
    expect(t.ok && t.ms).toBe(90_000);
  });
});

describe("invalid", () => {
  test.each([
    ["", "invalid duration"],
    ["3", 'missing unit in duration "3"'],
    ["-", "invalid duration"],
    ["s", "invalid duration"],
    [".", "invalid duration"],
    ["-.", "invalid duration"],
    [".s", "invalid duration"],
    ["+.s", "invalid duration"],
    ["1d", 'unknown unit "d" in duration "1d"'],
    ["1.1.1s", 'missing unit in duration'], // "1.1" then ".1s": Go reports missing unit
    ["\u00b5s", "invalid duration"],
    ["9223372036854775808ns", "invalid duration"],
    ["9223372036854775.808us", "invalid duration"],
    ["9223372036854ms775us808ns", "invalid duration"],
    ["10 s", 'unknown unit " s"'],
  ])("%p → %s", (input, message) => {
    const r = parseGoDuration(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});
