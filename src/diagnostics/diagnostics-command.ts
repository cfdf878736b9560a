// `meshlet diagnostics half-open`: the half-closed TCP connections of this network namespace with
// their local and peer addresses, and what each state means for a proxy. Exit 0; 64 on bad usage.
import { parseArgs } from "node:util";

import { formatHostPort } from "../config/values.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { HALF_OPEN_STATES, countByState, halfOpenSockets } from "./half-open.ts";
import { readTcpSockets } from "./tcp-table.ts";

const USAGE = `Usage: meshlet diagnostics half-open [--json]
Lists the TCP connections of this network namespace in CLOSE_WAIT (the peer closed; the local process
has not closed its side) and FIN_WAIT_2 (the local side closed; the peer has not), with both ends.
`;

const MEANING: Record<string, string> = {
  close_wait: "peer closed, local side still open",
  fin_wait_2: "local side closed, waiting for the peer",
};

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  } catch (err) {
    process.stderr.write(`meshlet diagnostics: ${(err as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== "half-open") {
    process.stderr.write(`meshlet diagnostics: expected the topic half-open${parsed.positionals.length ? ` (got ${parsed.positionals.join(" ")})` : ""}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const sockets = readTcpSockets();
  const halfOpen = halfOpenSockets(sockets);
  const counts = countByState(sockets);
  if (parsed.values.json) {
    const connections = halfOpen.map((s) => ({ state: s.state, local: formatHostPort(s.local), peer: formatHostPort(s.peer), uid: s.uid }));
    process.stdout.write(JSON.stringify({ counts, connections }, null, 2) + "\n");
    return 0;
  }
  for (const state of HALF_OPEN_STATES) process.stdout.write(`tcp_half_open_connections{state="${state}"} ${counts[state]}\n`);
  if (halfOpen.length > 0) {
    const rows = halfOpen.map((s) => [s.state, formatHostPort(s.local), formatHostPort(s.peer), String(s.uid), MEANING[s.state]!]);
    const header = ["STATE", "LOCAL", "PEER", "UID", "MEANING"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ") + "\n";
    process.stdout.write("\n" + line(header));
    for (const row of rows) process.stdout.write(line(row));
  }
  return 0;
}
