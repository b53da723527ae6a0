// With entity processing off, the parser leaves references as they are. Only XML's own five and
// character references are decoded here; there is no DTD, so any other name is an error.
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export class EntityError extends Error {}

export function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]{0,12});?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new EntityError(`a bare '&' in '${whole.slice(0, 12)}' (write &amp;)`);
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    const code = m ? parseInt(m[1] ?? m[2]!, m[1] ? 16 : 10) : NaN;
    if (Number.isNaN(code)) throw new EntityError(`the entity &${name}; is not defined (no DTD is read)`);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new EntityError(`&${name}; is not a character`);
    return String.fromCodePoint(code);
  });
}
