// The resource framework with two toy kinds (no feature involved): each kind decodes its documents,
// checks them against the other kind (an absent reference is a warning), and builds its own index;
// a new generation is built beside the one in force and may borrow state from it.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type ConfigSnapshot, checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";
import type { KindRegistration, Reporter, Resource, ResourceKind } from "../../../src/resources/kind.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-kinds-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Gadget {
  readonly name: string;
}
interface Widget {
  readonly name: string;
  readonly gadget: string;
}
/** An index with state that should survive reloads (like a retry budget). */
interface WidgetIndex {
  readonly byName: ReadonlyMap<string, { readonly widget: Widget; readonly counter: { n: number } }>;
}

// The toy kinds name indexes that src/ does not declare: typed loosely here, read back by name.
const gadgets = {
  group: "example.com",
  kind: "Gadget",
  versions: ["v1"],
  index: "gadgets",
  decode: (r: Resource, report: Reporter) => {
    if (r.name === undefined) {
      report.error(["metadata"], "a Gadget needs a name");
      return undefined;
    }
    return { name: r.name };
  },
  uniqueKey: (g: Gadget) => g.name,
  build: (own: readonly { value: Gadget }[]) => own.map((d) => d.value.name),
} as unknown as ResourceKind<Gadget, "profiles">;

const widgets = {
  group: "example.com",
  kind: "Widget",
  versions: ["v1"],
  index: "widgets",
  decode: (r: { name: string | undefined; value: Record<string, unknown> }) => ({ name: r.name ?? "", gadget: String(r.value["gadget"]) }),
  check(own: readonly { value: Widget; resource: never }[], set: { of(k: unknown): readonly { value: Gadget }[] }, report: { missingReference(r: never, p: string[], t: string): void }) {
    const known = new Set(set.of(gadgets).map((d) => d.value.name));
    for (const { value, resource } of own) {
      if (!known.has(value.gadget)) report.missingReference(resource, ["gadget"], `Gadget ${JSON.stringify(value.gadget)}`);
    }
  },
  build(own: readonly { value: Widget }[], previous: WidgetIndex | undefined): WidgetIndex {
    const byName = new Map<string, { widget: Widget; counter: { n: number } }>();
    for (const { value } of own) byName.set(value.name, { widget: value, counter: previous?.byName.get(value.name)?.counter ?? { n: 0 } });
    return { byName };
  },
} as unknown as ResourceKind<Widget, "profiles">;

const KINDS: KindRegistration[] = [gadgets, widgets, { group: "example.com", kind: "Doohickey", notEnforced: "not built yet" }];
const widgetIndex = (s: ConfigSnapshot) => (s as unknown as { widgets: WidgetIndex }).widgets;
const gadgetIndex = (s: ConfigSnapshot) => (s as unknown as { gadgets: string[] }).gadgets;

function dir(name: string, files: Record<string, string>): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

const widget = (name: string, gadget: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ${name}}\ngadget: ${gadget}\n`;
const gadget = (name: string) => `apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: ${name}}\n`;

describe("kinds as plug-ins", () => {
  test("each kind builds its index into the snapshot", () => {
    const r = loadConfigDir(dir("both", { "a.yaml": `${gadget("g1")}---\n${widget("w1", "g1")}` }), { kinds: KINDS });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(gadgetIndex(r.snapshot)).toEqual(["g1"]);
    expect([...widgetIndex(r.snapshot).byName.keys()]).toEqual(["w1"]);
    expect(r.snapshot.objects).toEqual({ Gadget: 1, Widget: 1 });
    expect(Object.isFrozen(r.snapshot)).toBe(true);
  });

  test("a reference to an absent object is a located warning, and the set still loads", () => {
    const d = dir("dangling", { "w.yaml": widget("w1", "nope") });
    const problems = checkConfigDir(d, KINDS);
    expect(problems.map((p) => [p.severity, p.path, p.line, p.message])).toEqual([
      ["warning", "gadget", 4, 'Gadget "nope" is not in the config directory (yet): until it is, this reference has no effect'],
    ]);
    expect(loadConfigDir(d, { kinds: KINDS }).ok).toBe(true);
  });

  test("a new generation is built beside the old one: the old is untouched, state is carried over", () => {
    const d = dir("generations", { "a.yaml": `${gadget("g1")}---\n${widget("w1", "g1")}` });
    const first = loadConfigDir(d, { kinds: KINDS });
    if (!first.ok) throw new Error("first");
    widgetIndex(first.snapshot).byName.get("w1")!.counter.n = 7;
    writeFileSync(join(d, "a.yaml"), `${gadget("g1")}---\n${widget("w1", "g1")}---\n${widget("w2", "g1")}`);
    const second = loadConfigDir(d, { kinds: KINDS, previous: first.snapshot });
    if (!second.ok) throw new Error("second");
    expect(second.snapshot.generation).toBe(2);
    expect(widgetIndex(second.snapshot).byName.get("w1")!.counter.n).toBe(7);
    expect(widgetIndex(second.snapshot).byName.get("w2")!.counter.n).toBe(0);
    expect([...widgetIndex(first.snapshot).byName.keys()]).toEqual(["w1"]);
  });

  test("an error in any document refuses the whole generation; recognised kinds warn once", () => {
    const d = dir("refused", {
      "a.yaml": `${widget("w1", "g1")}---\napiVersion: example.com/v1\nkind: Gadget\n`,
      "b.yaml": "apiVersion: example.com/v1\nkind: Doohickey\n---\napiVersion: example.com/v1\nkind: Doohickey\n",
    });
    const r = loadConfigDir(d, { kinds: KINDS });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.file.replace(/.*\//, ""), p.severity, p.doc, p.message.slice(0, 21)])).toEqual([
      ["a.yaml", "warning", 1, 'Gadget "g1" is not in'],
      ["a.yaml", "error", 2, "a Gadget needs a name"],
      ["b.yaml", "warning", 1, "Doohickey (example.co"],
    ]);
  });

  test("a kind that throws is a located problem, not a crash", () => {
    const broken = { ...gadgets, decode: () => { throw new Error("boom"); } } as unknown as KindRegistration;
    const d = dir("throws", { "a.yaml": gadget("g1") });
    const r = loadConfigDir(d, { kinds: [broken] });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.doc, p.line, p.message])).toEqual([[1, 1, "could not be loaded: boom"]]);
  });
});
