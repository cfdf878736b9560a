// Transport counters kept in TypeScript for the connections the HTTP engine owns (handed-off clients,
// pooled upstream connections), in the same shape as the front door's native counters, so that one set
// of tcp_* families (src/l4/transport-metrics.ts) reports every connection, with its TLS labels. Plain
// numbers: no work at scrape time beyond reading them, no allocation per byte.
import type { Direction } from "../rt/direction.ts";

export type Peer = "src" | "dst";

/**
 * A connection's TLS labels, as the HTTP families write them (`tls` plus `server_id`, `no_tls_reason`…;
 * see outboundTlsLabels in http.ts). Their values come from configuration (discovery, local identity),
 * never from traffic, so the rows stay bounded by the endpoints the configuration names.
 */
export type TransportTlsLabels = { readonly tls: string } & Readonly<Record<string, string>>;

/** What a connection without mTLS origination or termination says: Linkerd's tls="disabled". */
export const TRANSPORT_TLS_DISABLED: TransportTlsLabels = Object.freeze({ tls: "disabled" });

/** Counters of one (direction, peer, target); connections keep a reference and add to it. */
export interface TransportRow {
  readonly direction: Direction;
  readonly peer: Peer;
  readonly targetIp: string;
  readonly targetPort: number;
  readonly tls: TransportTlsLabels;
  openTotal: number;
  openNow: number;
  readBytes: number;
  writeBytes: number;
  /** errno name ("" for a clean close) → count. */
  readonly closes: Map<string, number>;
}

export class TransportCounters {
  private readonly byKey = new Map<string, TransportRow>();

  /**
   * A connection opened: returns its row. `countOpen` is false when the front door already counted
   * the accept (a handed-off client), so tcp_open_total counts each connection once. Connections to
   * one target with different TLS labels (an endpoint dialed plaintext and with mTLS) get their own rows.
   */
  open(direction: Direction, peer: Peer, targetIp: string, targetPort: number, countOpen: boolean, tls: TransportTlsLabels = TRANSPORT_TLS_DISABLED): TransportRow {
    let key = `${direction}|${peer}|${targetIp}|${targetPort}`;
    for (const name in tls) key += `|${name}=${tls[name]}`;
    let row = this.byKey.get(key);
    if (row === undefined) {
      row = { direction, peer, targetIp, targetPort, tls, openTotal: 0, openNow: 0, readBytes: 0, writeBytes: 0, closes: new Map() };
      this.byKey.set(key, row);
    }
    if (countOpen) row.openTotal++;
    row.openNow++;
    return row;
  }

  /** A connection closed; `errnoName` is "" for a clean close. */
  close(row: TransportRow, errnoName: string): void {
    row.openNow--;
    row.closes.set(errnoName, (row.closes.get(errnoName) ?? 0) + 1);
  }

  rows(): IterableIterator<TransportRow> {
    return this.byKey.values();
  }
}

/** The process's counters for HTTP-engine connections. */
export const httpTransport = new TransportCounters();

/** The errno name of a socket error ("ECONNRESET"), or "" for none. */
export function errnoNameOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : err === undefined || err === null ? "" : "EIO";
}
