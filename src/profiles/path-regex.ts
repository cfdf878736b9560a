// Route `pathRegex` compilation with RE2 (re2js): matching runs in time linear in the path, so a
// path — attacker input — cannot trigger catastrophic backtracking. Constructs that need
// backtracking (backreferences, lookarounds, atomic groups) are rejected with a clear message.
import type { RE2JS } from "re2js";
import { onFirstUse } from "../rt/on-first-use.ts";

/** re2js, loaded with the first route regex. */
const re2js = onFirstUse(() => require("re2js") as typeof import("re2js"));

export type PathRegexResult =
  | { readonly ok: true; readonly test: (path: string) => boolean; readonly source: string }
  | { readonly ok: false; readonly error: string };

const LINEAR = "route regexes must run in linear time (RE2 syntax)";

/**
 * Compiles a pathRegex. Like Linkerd, surrounding whitespace is trimmed and the regex must match
 * the whole path (query excluded: the caller passes only the path).
 *
 * Anchoring: Linkerd adds `^`/`$` textually, so `/a|/b` becomes `^/a|/b$` and also matches
 * `/a/anything`. meshlet matches the whole path as a unit (RE2 full match, like `^(?:/a|/b)$`),
 * which is what the documentation promises; both agree on every regex without a top-level `|`.
 */
export function compilePathRegex(regex: string): PathRegexResult {
  const source = regex.trim();
  const unsupported = unsupportedConstruct(source);
  if (unsupported !== undefined) return { ok: false, error: `${unsupported}; ${LINEAR}` };
  let re: RE2JS;
  try {
    re = re2js().RE2JS.compile(source);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `invalid regex ${JSON.stringify(source)}: ${msg.replace(/^error parsing regexp: /, "")}` };
  }
  // testExact: anchored at both ends, runs on the DFA without capture bookkeeping or allocation.
  return { ok: true, test: (path: string) => re.testExact(path), source };
}

/**
 * Finds syntax that a backtracking engine would accept but RE2 cannot run in linear time, so the
 * error names the construct instead of RE2's generic "invalid escape sequence". Returns a message.
 */
export function unsupportedConstruct(re: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === "\\") {
      const next = re[i + 1];
      if (next === "Q") {
        // \Q...\E quotes literally.
        const end = re.indexOf("\\E", i + 2);
        if (end < 0) return undefined;
        i = end + 1;
        continue;
      }
      if (!inClass && next !== undefined && next >= "1" && next <= "9") {
        let j = i + 1;
        while (j < re.length && (re[j] ?? "") >= "0" && (re[j] ?? "") <= "9") j++;
        return `backreference ${re.slice(i, j)} is not supported (and octal escapes are not allowed either)`;
      }
      if (!inClass && next === "k" && (re[i + 2] === "<" || re[i + 2] === "{" || re[i + 2] === "'")) {
        return `named backreference ${re.slice(i, i + 3)}… is not supported`;
      }
      i++; // skip the escaped character
      continue;
    }
    if (inClass) {
      if (c === "[" && re[i + 1] === ":") {
        const end = re.indexOf(":]", i + 2);
        if (end >= 0) i = end + 1;
      } else if (c === "]") {
        inClass = false;
      }
      continue;
    }
    if (c === "[") {
      inClass = true;
      if (re[i + 1] === "^") i++;
      if (re[i + 1] === "]") i++; // a leading ] is literal
      continue;
    }
    if (c === "(" && re[i + 1] === "?") {
      const a = re[i + 2];
      const b = re[i + 3];
      if (a === "=") return "lookahead (?=…) is not supported";
      if (a === "!") return "negative lookahead (?!…) is not supported";
      if (a === "<" && b === "=") return "lookbehind (?<=…) is not supported";
      if (a === "<" && b === "!") return "negative lookbehind (?<!…) is not supported";
      if (a === "P" && b === "=") return "named backreference (?P=…) is not supported";
      if (a === ">") return "atomic group (?>…) is not supported";
    }
  }
  return undefined;
}
