// Reads the kernel's TCP socket tables of the current network namespace (/proc/net/tcp and tcp6):
// each socket's state and its local and peer addresses, decoded from the kernel's hex notation.
import { readFileSync } from "node:fs";
import { endianness } from "node:os";

import type { HostPort } from "../config/values.ts";

/** The states of include/net/tcp_states.h, by their /proc hex code. */
const STATES: Record<string, string> = {
  "01": "established",
  "02": "syn_sent",
  "03": "syn_recv",
  "04": "fin_wait_1",
  "05": "fin_wait_2",
  "06": "time_wait",
  "07": "close",
  "08": "close_wait",
  "09": "last_ack",
  "0A": "listen",
  "0B": "closing",
  "0C": "new_syn_recv",
};

export interface TcpSocket {
  readonly state: string;
  readonly local: HostPort;
  readonly peer: HostPort;
  readonly uid: number;
}

export const TCP_TABLES = ["/proc/net/tcp", "/proc/net/tcp6"] as const;

/** Host-order 32-bit words as the kernel prints them (%08X of the in-memory value) back to network bytes. */
function wordBytes(hex: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** "0100007F:1F90" → 127.0.0.1:8080; 32 hex digits are IPv6 (an IPv4-mapped address prints as IPv4). */
export function decodeAddress(text: string, littleEndian = endianness() === "LE"): HostPort {
  const [hex = "", portHex = ""] = text.split(":");
  const port = parseInt(portHex, 16);
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8), littleEndian));
  if (bytes.length === 4) return { host: bytes.join("."), port };
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { host: bytes.slice(12).join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { host: new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1), port };
}

/** Parses the text of /proc/net/tcp or tcp6 (the header line is skipped). */
export function parseTcpTable(text: string, littleEndian = endianness() === "LE"): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    sockets.push({
      local: decodeAddress(fields[1]!, littleEndian),
      peer: decodeAddress(fields[2]!, littleEndian),
      state: STATES[fields[3]!.toUpperCase()] ?? `unknown_${fields[3]}`,
      uid: Number(fields[7]),
    });
  }
  return sockets;
}

/** Every TCP socket of this network namespace; a table that is absent (no IPv6) counts as empty. */
export function readTcpSockets(tables: readonly string[] = TCP_TABLES): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const path of tables) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    sockets.push(...parseTcpTable(text));
  }
  return sockets;
}
