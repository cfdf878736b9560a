// Which slice port serves service port P. With a Service document, Kubernetes' (and Linkerd's) rule:
// P's spec.ports entry, then the slice port of the same name (else its targetPort, number or name);
// without one, a slice with a single port serves every port of the authority.
import type { ServiceSpec, SlicePort } from "./model.ts";

/** The endpoint port, or why the slice offers none for this service port. */
export type PortMapping = { readonly port: number } | { readonly none: string };

export function slicePortFor(ports: readonly SlicePort[], servicePort: number, service: ServiceSpec | undefined): PortMapping {
  if (ports.length === 0) return { none: "the slice defines no TCP port" };
  // A slice port with a null port number means "all ports": the requested one.
  const portOf = (p: SlicePort): number => p.port ?? servicePort;
  if (service === undefined) {
    if (ports.length === 1) return { port: portOf(ports[0]!) };
    return { none: `the slice has ${ports.length} ports and no Service document maps service port ${servicePort} to one of them` };
  }
  const declared = service.ports.find((p) => p.port === servicePort);
  if (declared === undefined) return { none: `Service ${service.namespace}/${service.name} has no TCP port ${servicePort}` };
  const byName = ports.find((p) => p.name === declared.name);
  if (byName !== undefined) return { port: portOf(byName) };
  const target = declared.targetPort;
  const byTarget = typeof target === "number" ? ports.find((p) => p.port === target) : typeof target === "string" ? ports.find((p) => p.name === target) : undefined;
  if (byTarget !== undefined) return { port: portOf(byTarget) };
  const spelled = declared.name === "" ? `port ${servicePort}` : `port ${servicePort} (${declared.name})`;
  return { none: `no port of the slice matches service ${spelled} by name or targetPort` };
}
