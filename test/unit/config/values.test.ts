// formatPortSet is the compact inverse of parsePortSet (the ready banner prints opaque ports with it).
import { expect, test } from "bun:test";

import { formatPortSet, parsePortSet } from "../../../src/config/values.ts";

test.each([
  ["", ""],
  ["25", "25"],
  ["6379,25,587", "25,587,6379"],
  ["8000-8002, 9000, 8003", "8000-8003,9000"],
  ["1,3,5-6", "1,3,5-6"],
])("parsePortSet(%j) formats as %j and parses back to the same set", (text, formatted) => {
  const ports = parsePortSet(text);
  expect(formatPortSet(ports)).toBe(formatted);
  expect(parsePortSet(formatted)).toEqual(ports);
});
