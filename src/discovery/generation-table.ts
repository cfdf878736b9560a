// The endpoint table of a configuration generation, built once from its EndpointSlice and Service
// indexes and shared by everything that reads it in that generation (the outbound pipeline, the admin
// /endpoints.json, later the TLS origination and the load balancer), so round-robin state is one.
import { EndpointTable } from "./endpoint-table.ts";
import type { EndpointSliceSpec, ServiceSpec } from "./model.ts";

/** What a generation holds for discovery (ConfigSnapshot satisfies it). */
export interface DiscoveryObjects {
  readonly endpointSlices: readonly EndpointSliceSpec[];
  readonly services: readonly ServiceSpec[];
}

const built = new WeakMap<readonly EndpointSliceSpec[], { readonly services: readonly ServiceSpec[]; readonly domain: string; readonly table: EndpointTable }>();

/** The table of `generation` (the same object for every caller while that generation is in force). */
export function endpointTableOf(generation: DiscoveryObjects, clusterDomain: string): EndpointTable {
  const hit = built.get(generation.endpointSlices);
  if (hit !== undefined && hit.services === generation.services && hit.domain === clusterDomain) return hit.table;
  const table = new EndpointTable(generation.endpointSlices, generation.services, clusterDomain);
  built.set(generation.endpointSlices, { services: generation.services, domain: clusterDomain, table });
  return table;
}

/** The table in force, read per call from the generation watch (a reload applies from the next call). */
export function endpointTables(generations: { get(): DiscoveryObjects }, clusterDomain: string): { get(): EndpointTable } {
  return { get: () => endpointTableOf(generations.get(), clusterDomain) };
}
