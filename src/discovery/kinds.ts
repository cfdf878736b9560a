// EndpointSlice (discovery.k8s.io/v1) and Service (v1) as resource kinds: decoders, the checks across
// the set that `meshlet check` reports (a slice that names no service, several ports with nothing to
// map a service port to them, a Service port no slice serves), and their indexes.
import type { Decoded, ResourceKind } from "../resources/kind.ts";
import { decodeEndpointSlice, decodeService } from "./decode.ts";
import { serviceHost } from "./endpoint-table.ts";
import { type EndpointSliceSpec, SERVICE_NAME_LABEL, type ServiceSpec } from "./model.ts";
import { slicePortFor } from "./port-mapping.ts";

declare module "../resources/kind.ts" {
  interface Indexes {
    /** The EndpointSlices in force (src/discovery/kinds.ts); endpointTableOf() makes them a table. */
    readonly endpointSlices: readonly EndpointSliceSpec[];
    /** The Services in force: they map service ports to slice ports. */
    readonly services: readonly ServiceSpec[];
  }
}

export const DISCOVERY_GROUP = "discovery.k8s.io";

export interface DiscoveryKindSettings {
  /** MESHLET_CLUSTER_DOMAIN, for the authorities the checks name. */
  readonly clusterDomain: string;
}

const byNamespacedName = (spec: { name: string; namespace: string }) => `${spec.namespace}/${spec.name}`;
const values = <T>(own: readonly Decoded<T>[]): readonly T[] => own.map((d) => d.value);

export function discoveryKinds(settings: DiscoveryKindSettings) {
  const service: ResourceKind<ServiceSpec, "services"> = {
    group: "",
    kind: "Service",
    versions: ["v1"],
    index: "services",
    decode: decodeService,
    uniqueKey: byNamespacedName,
    check(own, set, report) {
      const slices = values(set.of(endpointSlice));
      for (const { value, resource } of own) {
        const mine = slices.filter((s) => s.serviceName === value.name && s.namespace === value.namespace);
        if (mine.length === 0) continue; // only slices put a service in the table
        value.ports.forEach((p, i) => {
          if (mine.some((s) => "port" in slicePortFor(s.ports, p.port, value))) return;
          const named = p.name === "" ? "" : ` (${p.name})`;
          report.warn(resource, ["spec", "ports", i], `service port ${p.port}${named} matches no port of the service's EndpointSlices by name or targetPort: requests to it get 503`);
        });
      }
    },
    build: values,
  };

  const endpointSlice: ResourceKind<EndpointSliceSpec, "endpointSlices"> = {
    group: DISCOVERY_GROUP,
    kind: "EndpointSlice",
    versions: ["v1"],
    index: "endpointSlices",
    decode: decodeEndpointSlice,
    uniqueKey: byNamespacedName,
    check(own, set, report) {
      const services = values(set.of(service));
      for (const { value, resource } of own) {
        if (value.serviceName === undefined) {
          report.warn(resource, ["metadata", "labels"], `no ${SERVICE_NAME_LABEL} label: the slice belongs to no service, its endpoints are not used`);
          continue;
        }
        const host = serviceHost(value.serviceName, value.namespace, settings.clusterDomain);
        if (value.ports.length === 0) {
          report.warn(resource, ["ports"], `no TCP port: the slice's endpoints serve no port of ${host}`);
        } else if (value.ports.length > 1 && !services.some((s) => s.name === value.serviceName && s.namespace === value.namespace)) {
          report.warn(
            resource,
            ["ports"],
            `${value.ports.length} ports and no Service ${value.namespace}/${value.serviceName} in the config directory to map service ports to them: ` +
              `requests to ${host} get 503 until there is one (a slice with one port serves every port)`,
          );
        }
      }
    },
    build: values,
  };

  return { endpointSlice, service };
}
