// A meshed peer's identity read from its verified certificate, Linkerd's way: the DNS and URI
// subjectAltNames of the leaf (a bare "*" is no identity); the client identity is the first of them,
// and a server carries an identity when it is among them, compared exactly (no wildcards).

/** One DNS or URI subjectAltName: `foo.ns.serviceaccount.identity.linkerd.cluster.local`, `spiffe://…`. */
export interface MeshIdentity {
  readonly kind: "dns" | "uri";
  readonly name: string;
}

/** Why a subjectAltName string could not be read (never a peer's fault we could hide). */
export class SubjectAltNameError extends Error {
  readonly code = "MESHLET_ERR_TLS_SUBJECT_ALT_NAME";
  constructor(
    readonly input: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`subjectAltName ${JSON.stringify(input)} at offset ${offset}: ${reason}`);
  }
}

/**
 * The DNS and URI names of a certificate's `subjectaltname` string as node:tls and Bun print it
 * (`DNS:a.example, URI:spiffe://td/ns/x, IP Address:10.0.0.1`; a value holding a comma or quote is
 * JSON-quoted: `URI:"spiffe://td/a,b"`), in certificate order. Other kinds (IP, email) are skipped.
 */
export function subjectAltNames(subjectaltname: string | undefined): MeshIdentity[] {
  const names: MeshIdentity[] = [];
  if (subjectaltname === undefined || subjectaltname === "") return names;
  const s = subjectaltname;
  let at = 0;
  while (at < s.length) {
    const colon = s.indexOf(":", at);
    if (colon < 0) throw new SubjectAltNameError(s, at, "expected TYPE:value");
    const type = s.slice(at, colon);
    let value: string;
    let end: number;
    if (s[colon + 1] === '"') {
      end = closingQuote(s, colon + 2);
      try {
        value = JSON.parse(s.slice(colon + 1, end + 1)) as string;
      } catch {
        throw new SubjectAltNameError(s, colon + 1, "malformed quoted value");
      }
      end += 1;
    } else {
      const comma = s.indexOf(", ", colon + 1);
      end = comma < 0 ? s.length : comma;
      value = s.slice(colon + 1, end);
    }
    if (end < s.length && !s.startsWith(", ", end)) throw new SubjectAltNameError(s, end, 'expected ", " between names');
    if (type === "DNS" && value !== "*") names.push({ kind: "dns", name: value });
    else if (type === "URI") names.push({ kind: "uri", name: value });
    at = end < s.length ? end + 2 : end;
  }
  return names;
}

function closingQuote(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i;
  }
  throw new SubjectAltNameError(s, from - 1, "unterminated quoted value");
}

/** The client identity of a verified leaf: its first DNS or URI name (linkerd/meshtls/verifier). */
export function peerIdentity(subjectaltname: string | undefined): MeshIdentity | undefined {
  return subjectAltNames(subjectaltname)[0];
}

/**
 * Whether a verified server certificate carries `expected` (a DNS identity, or a `spiffe://` URI) among
 * its names. DNS names compare case-insensitively and exactly: a wildcard in the certificate matches
 * nothing, so a peer can only prove the identity it was issued.
 */
export function carriesIdentity(subjectaltname: string | undefined, expected: string): boolean {
  const wanted = expected.includes("://") ? { kind: "uri", name: expected } : { kind: "dns", name: expected.toLowerCase() };
  return subjectAltNames(subjectaltname).some((n) =>
    n.kind === wanted.kind && (n.kind === "dns" ? n.name.toLowerCase() === wanted.name : n.name === wanted.name),
  );
}
