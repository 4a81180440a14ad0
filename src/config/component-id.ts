// Component ids in the collector's `type[/name]` form (component.ID in the collector).

export type ParsedId = { ok: true; type: string; name: string | undefined } | { ok: false; message: string };

const TYPE = /^[a-zA-Z][0-9a-zA-Z_]{0,62}$/;
// The collector forbids separators, control characters and symbols in names (\pZ \pC \pS).
const NAME = /^[^\p{Z}\p{C}\p{S}]+$/u;
const MAX_NAME = 1024;

export function parseComponentId(id: string): ParsedId {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  const name = slash < 0 ? undefined : id.slice(slash + 1);
  const bad = (why: string): ParsedId => ({
    ok: false,
    message: `invalid component id ${JSON.stringify(id)}: ${why}; ids are type or type/name, e.g. otlp or otlp/backup`,
  });
  if (type === '') return bad('the type before "/" is missing');
  if (!TYPE.test(type)) return bad('the type must start with a letter and contain only letters, digits and _');
  if (name !== undefined) {
    if (name === '') return bad('the name after "/" is empty');
    if (name.length > MAX_NAME) return bad(`the name is longer than ${MAX_NAME} characters`);
    if (!NAME.test(name)) return bad('the name must not contain spaces, control characters or symbols');
  }
  return { ok: true, type, name };
}
