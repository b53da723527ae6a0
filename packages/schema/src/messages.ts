// Messages follow the spec's MessageItem (Message Templates): a template, its values, and the
// rendered text, so clients can both read them and match on the template.

import type { components } from './generated/openapi.js';

export type MessageItem = components['schemas']['MessageItem'];
export type MessageLevel = NonNullable<MessageItem['level']>;

// Program output and remote error texts can hold any bytes; PostgreSQL (jsonb, text) stores no NUL
// and no unpaired surrogate, so such characters become U+FFFD rather than failing the write.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
export const storableText = (s: string): string => s.replace(UNSTORABLE, '\uFFFD');

export function message(
  kind: string,
  level: MessageLevel,
  template: string,
  values: Record<string, string | number> = {},
  at: Date = new Date(),
): MessageItem {
  const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, storableText(String(v))]));
  const text = template.replace(/\{(\w+)\}/g, (whole, name: string) => strings[name] ?? whole);
  return { kind, time: at.toISOString(), level, template, values: strings, message: text };
}
