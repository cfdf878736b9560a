// src/resources/ is a framework: it imports no feature. Kinds plug into it (src/app/resource-kinds.ts),
// never the other way round. This reads the import lines of every module under src/resources/ and src/rt/.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SRC = join(import.meta.dir, "../../../src");
const importsOf = (dir: string) =>
  readdirSync(join(SRC, dir))
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [...readFileSync(join(SRC, dir, f), "utf8").matchAll(/^(?:import|export)[^;]*?from "([^"]+)"/gms)].map((m) => [`${dir}/${f}`, m[1]!] as const),
    );

test("src/resources imports only itself, src/rt, the log and metrics registries, prom-client's door, and libraries", () => {
  const allowed = /^(\.\/|\.\.\/rt\/|\.\.\/log\/logger\.ts$|\.\.\/metrics\/registry\.ts$|\.\.\/metrics\/prom-client\.ts$|node:|yaml$|prom-client$|ajv$)/;
  const bad = importsOf("resources").filter(([, spec]) => !allowed.test(spec));
  expect(bad).toEqual([]);
});

test("src/rt imports nothing above it", () => {
  const bad = importsOf("rt").filter(([, spec]) => spec.startsWith("../"));
  expect(bad).toEqual([]);
});
