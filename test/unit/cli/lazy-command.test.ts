// lazyCommand: the command table's entries load their module only when asked, and a table entry whose
// name disagrees with the command its module defines is an error, not a silently renamed command.
import { describe, expect, test } from "bun:test";
import { defineCommand, lazyCommand } from "../../../src/cli/command.ts";

const envLike = defineCommand({ name: "env", summary: "list the settings", options: {} }, () => 7);

describe("lazyCommand", () => {
  test("loads the command only when asked, then runs it", async () => {
    let loads = 0;
    const entry = lazyCommand("env", async () => (loads++, envLike));
    expect(entry.name).toBe("env");
    expect(loads).toBe(0);
    const command = await entry.load();
    expect(loads).toBe(1);
    expect(await command.run([])).toBe(7);
  });

  test("a table name that differs from the module's command name is an error", async () => {
    const entry = lazyCommand("environment", async () => envLike);
    await expect(entry.load()).rejects.toThrow('the command table names "environment" but its module defines "env"');
  });
});
