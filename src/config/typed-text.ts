// A scalar known both as text and as a YAML-typed value; the setting's schema picks one.

/**
 * `0123` in YAML (or an env var holding it) is the number 123 to YAML, but a header value or a
 * resource attribute wants the text "0123". The collector keeps both (confmap's ExpandedValue);
 * so do we, and section.ts resolves each to `text` or `value` by the format of its setting.
 */
export class TypedText {
  constructor(
    readonly text: string,
    readonly value: unknown,
  ) {}
}
