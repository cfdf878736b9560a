// The decoded forms of the two Kubernetes kinds discovery reads — EndpointSlice (discovery.k8s.io/v1)
// and Service (v1) — and of one endpoint as the outbound side dials it.
import type { UpstreamTarget } from "../http/request-ctx.ts";

/** EndpointSlice `addressType`: what every address of the slice is. */
export type AddressType = "IPv4" | "IPv6" | "FQDN";

/** The label that names a slice's Service (Kubernetes' `discovery.k8s.io/v1` LabelServiceName). */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** The slice annotation that marks its endpoints as meshed with this identity (a DNS name). */
export const IDENTITY_ANNOTATION = "meshlet.io/identity";

/** One `ports[]` entry of a slice; only TCP ports are kept (HTTP and opaque traffic are TCP). */
export interface SlicePort {
  /** "" when unnamed, as Kubernetes' single unnamed service port. */
  readonly name: string;
  /** Undefined when `port` is null: Kubernetes' "all ports" (the requested port is used). */
  readonly port: number | undefined;
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  /** `conditions.ready`; absent or null means ready (the API's rule, and Linkerd's). */
  readonly ready: boolean;
}

export interface EndpointSliceSpec {
  readonly name: string;
  readonly namespace: string;
  /** The `kubernetes.io/service-name` label; undefined when absent (the slice serves no authority). */
  readonly serviceName: string | undefined;
  readonly addressType: AddressType;
  /** The `meshlet.io/identity` annotation, lowercased; undefined: the endpoints are not meshed. */
  readonly identity: string | undefined;
  readonly endpoints: readonly SliceEndpoint[];
  /** The TCP ports; empty when the slice defines none (then it offers no usable endpoint). */
  readonly ports: readonly SlicePort[];
}

/** One `spec.ports[]` entry of a Service (TCP only). */
export interface ServicePort {
  readonly name: string;
  readonly port: number;
  /** A number, a named port, or undefined (Kubernetes then uses `port`). */
  readonly targetPort: number | string | undefined;
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly ServicePort[];
}

/** The upstream target of a discovered endpoint: the dial address plus the identity the TLS side checks. */
export interface DiscoveredTarget extends UpstreamTarget {
  /** The peer's expected identity (its certificate's DNS SAN); undefined: plaintext (`tls="no_identity"`). */
  readonly identity: string | undefined;
}

/** One endpoint of an authority and port, as the table holds it. */
export interface Endpoint {
  /** IP address (IPv4/IPv6 slices) or DNS name (FQDN slices, resolved through the DNS cache when dialed). */
  readonly address: string;
  readonly port: number;
  readonly identity: string | undefined;
  readonly ready: boolean;
  /** The slice that lists it, `namespace/name`. */
  readonly slice: string;
  /** What the request pipeline hands the engine; made once per table, so a request allocates nothing. */
  readonly target: DiscoveredTarget;
}
