// Decoding the kernel's /proc/net/tcp{,6} notation (host-order hex words) and counting half-open states.
import { expect, test } from "bun:test";

import { countByState, halfOpenSockets } from "../../../src/diagnostics/half-open.ts";
import { decodeAddress, parseTcpTable } from "../../../src/diagnostics/tcp-table.ts";

// Lines as a little-endian kernel prints them.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 08 00000000:00000000 00:00000000 00000000  2102        0 1002 1 0 20 4 30 10 -1
   2: 0100007F:D431 0100007F:1F90 05 00000000:00000000 00:00000000 00000000     0        0 1003 1 0 20 4 30 10 -1
   3: 020012C6:E2E8 010012C6:18EB 01 00000000:00000000 00:00000000 00000000     0        0 1004 1 0 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 08 00000000:00000000 00:00000000 00000000     0        0 2001 1 0 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000200007F:C351 05 00000000:00000000 00:00000000 00000000     0        0 2002 1 0 20 4 30 10 -1
   2: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:C352 01 00000000:00000000 00:00000000 00000000     0        0 2003 1 0 20 4 30 10 -1
`;

test("IPv4 and IPv6 addresses decode from host-order words", () => {
  expect(decodeAddress("0100007F:1F90", true)).toEqual({ host: "127.0.0.1", port: 8080 });
  expect(decodeAddress("7F000001:1F90", false)).toEqual({ host: "127.0.0.1", port: 8080 });
  expect(decodeAddress("020012C6:E2E8", true)).toEqual({ host: "198.18.0.2", port: 58088 });
  expect(decodeAddress("00000000000000000000000001000000:1F90", true)).toEqual({ host: "::1", port: 8080 });
  expect(decodeAddress("B80D0120000000000000000001000000:0050", true)).toEqual({ host: "2001:db8::1", port: 80 });
  expect(decodeAddress("0000000000000000FFFF00000100007F:1F90", true)).toEqual({ host: "127.0.0.1", port: 8080 });
});

test("a table parses into sockets with states, ends and uids", () => {
  const sockets = parseTcpTable(TCP, true);
  expect(sockets.map((s) => s.state)).toEqual(["listen", "close_wait", "fin_wait_2", "established"]);
  expect(sockets[1]).toEqual({ state: "close_wait", local: { host: "127.0.0.1", port: 8080 }, peer: { host: "127.0.0.1", port: 54321 }, uid: 2102 });
});

test("half-open sockets are counted per state across both tables", () => {
  const sockets = [...parseTcpTable(TCP, true), ...parseTcpTable(TCP6, true)];
  expect(countByState(sockets)).toEqual({ close_wait: 2, fin_wait_2: 2 });
  expect(halfOpenSockets(sockets).map((s) => `${s.state} ${s.peer.host}:${s.peer.port}`)).toEqual([
    "close_wait 127.0.0.1:54321",
    "fin_wait_2 127.0.0.1:8080",
    "close_wait ::1:50000",
    "fin_wait_2 127.0.0.2:50001",
  ]);
});
