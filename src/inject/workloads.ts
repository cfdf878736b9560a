// Where each Kubernetes workload kind keeps its pod template (Linkerd's getFreshWorkloadObj): the
// controllers under spec.template, CronJob under spec.jobTemplate.spec.template, a Pod at its root.

const TEMPLATE_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ["Deployment", ["spec", "template"]],
  ["StatefulSet", ["spec", "template"]],
  ["DaemonSet", ["spec", "template"]],
  ["ReplicaSet", ["spec", "template"]],
  ["ReplicationController", ["spec", "template"]],
  ["Job", ["spec", "template"]],
  ["CronJob", ["spec", "jobTemplate", "spec", "template"]],
  ["Pod", []],
]);

/** The path from the object to its pod template (metadata + spec), or undefined for kinds without one. */
export function podTemplatePath(kind: unknown): readonly string[] | undefined {
  return typeof kind === "string" ? TEMPLATE_PATHS.get(kind) : undefined;
}

export const WORKLOAD_KINDS: readonly string[] = [...TEMPLATE_PATHS.keys()];
