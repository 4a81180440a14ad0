// Server names in nomad_autostart `sni` lists, checked by the rules the ClientHello parser
// applies to what it reports (src/receivers/sni/client-hello.ts): RFC 6066 §3 (no trailing dot, no
// IP literal), RFC 1035 §2.3.4 sizes, RFC 5890 LDH labels; plus one leading `*.` wildcard label.

const MAX_NAME = 253;
const MAX_LABEL = 63;
const LDH_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `name` can never equal a reported server name, or undefined when it is fine. */
export function serverNameProblem(name: string): string | undefined {
  const q = JSON.stringify(name);
  const lower = name.toLowerCase();
  const bare = lower.startsWith('*.') ? lower.slice(2) : lower;
  if (bare.includes('*')) return `${q}: a wildcard is only allowed as the whole first label, as in "*.example.com"`;
  if (bare.endsWith('.')) return `${q}: remove the trailing dot (ClientHello server names never have one)`;
  if (bare.length > MAX_NAME) return `${q}: longer than ${MAX_NAME} characters`;
  const labels = bare.split('.');
  for (const label of labels) {
    if (label === '') return `${q}: has an empty label`;
    if (label.length > MAX_LABEL) return `${q}: a label is longer than ${MAX_LABEL} characters`;
    if (!LDH_LABEL.test(label)) return `${q}: labels are letters, digits and hyphens, not starting or ending with a hyphen (IDNs as xn-- A-labels)`;
  }
  if (labels.length === 4 && labels.every((l) => /^\d+$/.test(l)))
    return `${q}: is an IP address; clients never send one as a server name (match the port instead)`;
  return undefined;
}
