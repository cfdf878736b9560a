// Chooses the profile for a request from its authority (or, inbound, from MESHLET_INBOUND_PROFILE).
// Like Linkerd's LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES, only names under `svc.<cluster domain>`
// get profiles unless external profiles are enabled (Linkerd's enableExternalProfiles).
import { parseAuthority } from "../http/authority.ts";
import type { Profile, ProfileSet } from "./model.ts";
import type { Direction } from "../rt/direction.ts";

export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

export interface LookupOptions {
  readonly direction: Direction;
  /**
   * MESHLET_INBOUND_PROFILE: inbound requests use this profile whatever their authority (and
   * whatever externalProfiles says: the operator named it). If no profile has that name, inbound
   * requests get no profile; there is no fallback to the authority.
   */
  readonly inboundProfileName?: string | undefined;
  /** MESHLET_EXTERNAL_PROFILES: let profiles apply to names outside `svc.<clusterDomain>`. */
  readonly externalProfiles: boolean;
  /** MESHLET_CLUSTER_DOMAIN, e.g. "cluster.local". */
  readonly clusterDomain: string;
}

/** True for `<anything>.svc.<clusterDomain>`: the names Linkerd looks profiles up for by default. */
export function isClusterName(host: string, clusterDomain: string): boolean {
  const domain = clusterDomain.toLowerCase().replace(/^\.+|\.+$/g, "");
  const suffix = `.svc.${domain}`;
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The profile for a request, or undefined (then every request takes the default route).
 * Candidates, first found wins: `host:port`, then `host` — so a profile named `localhost`
 * applies to `localhost:8080`, and one named `localhost:8080` only to that port.
 * With externalProfiles off, a host outside `svc.<clusterDomain>` gets no profile even if one
 * carries exactly its name (Linkerd would never look it up).
 */
export function lookupProfile(profiles: ProfileSet, authority: string, opts: LookupOptions): Profile | undefined {
  if (opts.direction === "inbound" && opts.inboundProfileName !== undefined && opts.inboundProfileName !== "") {
    return profiles.byName.get(opts.inboundProfileName);
  }
  if (profiles.byName.size === 0) return undefined;
  const parsed = parseAuthority(authority);
  if (parsed === undefined) return undefined;
  if (!opts.externalProfiles && !isClusterName(parsed.host, opts.clusterDomain)) return undefined;
  if (parsed.port !== undefined) {
    const exact = profiles.byName.get(`${parsed.host}:${parsed.port}`);
    if (exact !== undefined) return exact;
  }
  return profiles.byName.get(parsed.host);
}
