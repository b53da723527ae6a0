// Messages follow the spec's MessageItem (Message Templates): a template, its values, and the
// rendered text, so clients can both read them and match on the template.

export type MessageLevel = 'DEBUG' | 'WARN' | 'ERROR' | 'INFO' | 'OTHER';

export interface MessageItem {
  kind?: string;
  time?: string;
  level?: MessageLevel;
  template?: string;
  values?: Record<string, string>;
  message?: string;
}

export function message(
  kind: string,
  level: MessageLevel,
  template: string,
  values: Record<string, string | number> = {},
  at: Date = new Date(),
): MessageItem {
  const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  const text = template.replace(/\{(\w+)\}/g, (whole, name: string) => strings[name] ?? whole);
  return { kind, time: at.toISOString(), level, template, values: strings, message: text };
}
