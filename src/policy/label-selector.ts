// Kubernetes label-selector semantics (matchLabels AND matchExpressions) against this pod's labels
// (MESHLET_POD_LABELS): how a Server's podSelector and a ServerAuthorization's selector apply.
import type { LabelSelector } from "./model.ts";

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !e.values.includes(value!)) return false;
        break;
      case "NotIn":
        if (has && e.values.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}
