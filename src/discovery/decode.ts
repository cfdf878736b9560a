// Decoders for EndpointSlice and Service: the schema (schema.ts) first, then what it cannot say — each
// address valid for the slice's addressType, the identity annotation a DNS name — each problem located
// by field path. A decoder returns undefined when it reported an error.
import { isIpv4, isIpv6, parseDnsName, ValueError } from "../config/values.ts";
import { isRecord, type Reporter, type Resource } from "../resources/kind.ts";
import type { FieldPath } from "../resources/problem.ts";
import {
  type AddressType,
  type EndpointSliceSpec,
  IDENTITY_ANNOTATION,
  SERVICE_NAME_LABEL,
  type ServicePort,
  type ServiceSpec,
  type SliceEndpoint,
  type SlicePort,
} from "./model.ts";
import { type DiscoveryKindName, validateDiscoverySchema } from "./schema.ts";

type Json = Readonly<Record<string, unknown>>;

const records = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isRecord) : []);
const stringOr = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
/** Kubernetes' default protocol is TCP; discovery keeps TCP ports only. */
const isTcp = (p: Json): boolean => p["protocol"] === undefined || p["protocol"] === null || p["protocol"] === "TCP";

/** Runs the schema: errors fail the document, unknown fields warn. True when the document may be decoded. */
function schemaOk(kind: DiscoveryKindName, resource: Resource, report: Reporter): boolean {
  const { errors, unknownFields } = validateDiscoverySchema(kind, resource.value);
  for (const issue of unknownFields) report.warn(issue.path, `${issue.message}; ignored (Kubernetes does not define it)`);
  for (const issue of errors) report.error(issue.path, issue.message);
  return errors.length === 0;
}

function metadataMap(resource: Resource, key: "labels" | "annotations"): Json {
  const metadata = resource.value["metadata"];
  const map = isRecord(metadata) ? metadata[key] : undefined;
  return isRecord(map) ? map : {};
}

export function decodeEndpointSlice(resource: Resource, report: Reporter): EndpointSliceSpec | undefined {
  if (!schemaOk("EndpointSlice", resource, report)) return undefined;
  const value = resource.value;
  let failed = false;
  const error = (path: FieldPath, message: string) => {
    failed = true;
    report.error(path, message);
  };

  const endpoints = records(value["endpoints"]);
  const declared = value["addressType"] as AddressType | undefined;
  const addressType = declared ?? inferredAddressType(endpoints);
  if (declared === undefined) {
    report.warn([], `missing addressType (Kubernetes requires IPv4, IPv6 or FQDN); taken as ${addressType} from the addresses`);
  }
  const decodedEndpoints: SliceEndpoint[] = endpoints.map((e, i) => {
    const addresses = (e["addresses"] as string[]).map((address, j) => {
      const wrong = addressProblem(address, addressType);
      if (wrong !== undefined) error(["endpoints", i, "addresses", j], wrong);
      return addressType === "FQDN" ? address.toLowerCase().replace(/\.$/, "") : address;
    });
    const conditions = isRecord(e["conditions"]) ? e["conditions"] : {};
    return { addresses, ready: conditions["ready"] !== false };
  });

  const annotations = metadataMap(resource, "annotations");
  let identity: string | undefined;
  const rawIdentity = annotations[IDENTITY_ANNOTATION];
  if (rawIdentity !== undefined) {
    try {
      identity = parseDnsName(String(rawIdentity));
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      error(["metadata", "annotations", IDENTITY_ANNOTATION], `${JSON.stringify(rawIdentity)} is not a DNS name: an identity is a certificate's DNS SAN, e.g. web.default.serviceaccount.identity.linkerd.cluster.local`);
    }
  }
  const serviceName = metadataMap(resource, "labels")[SERVICE_NAME_LABEL];
  const ports: SlicePort[] = records(value["ports"])
    .filter(isTcp)
    .map((p) => ({ name: stringOr(p["name"], ""), port: typeof p["port"] === "number" ? p["port"] : undefined }));

  if (failed) return undefined;
  return {
    name: resource.name ?? "",
    namespace: resource.namespace,
    serviceName: typeof serviceName === "string" && serviceName !== "" ? serviceName : undefined,
    addressType,
    identity,
    endpoints: decodedEndpoints,
    ports,
  };
}

export function decodeService(resource: Resource, report: Reporter): ServiceSpec | undefined {
  if (!schemaOk("Service", resource, report)) return undefined;
  const spec = isRecord(resource.value["spec"]) ? resource.value["spec"] : {};
  const ports: ServicePort[] = records(spec["ports"])
    .filter(isTcp)
    .map((p) => {
      const target = p["targetPort"];
      return { name: stringOr(p["name"], ""), port: p["port"] as number, targetPort: typeof target === "number" || typeof target === "string" ? target : undefined };
    });
  return { name: resource.name ?? "", namespace: resource.namespace, ports };
}

/** Why `address` is not valid for `type`, or undefined when it is. */
function addressProblem(address: string, type: AddressType): string | undefined {
  switch (type) {
    case "IPv4":
      return isIpv4(address) ? undefined : `${JSON.stringify(address)} is not an IPv4 address (addressType IPv4)`;
    case "IPv6":
      return isIpv6(address) ? undefined : `${JSON.stringify(address)} is not an IPv6 address (addressType IPv6)`;
    case "FQDN":
      try {
        parseDnsName(address);
        return undefined;
      } catch {
        return `${JSON.stringify(address)} is not a DNS name (addressType FQDN)`;
      }
  }
}

/** For a slice without addressType (Kubernetes requires it; some of Linkerd's test objects omit it). */
function inferredAddressType(endpoints: readonly Json[]): AddressType {
  const first = endpoints.flatMap((e) => (e["addresses"] as string[] | undefined) ?? [])[0];
  if (first === undefined || isIpv4(first)) return "IPv4";
  return isIpv6(first) ? "IPv6" : "FQDN";
}
