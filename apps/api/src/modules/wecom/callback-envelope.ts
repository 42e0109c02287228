/** One element of WeCom's envelope: `<Name>text</Name>` or `<Name><![CDATA[text]]></Name>`, after any white space. */
const ENVELOPE_ELEMENT = /\s*<([A-Za-z]\w*)>(?:<!\[CDATA\[([^\]]*)\]\]>|([^<]*))<\/\1>/y;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The ciphertext of a body that is WeCom's envelope as it sends it (one `<xml>` root, flat elements, one
 * `<Encrypt>` of base64), read without the XML parser, whose scan of the long ciphertext was most of the
 * callback's parsing time; null for any other body, which is then parsed whole (and refused as before when it is
 * not WeCom's XML). What it reads is what the signature is checked over, so it cannot widen what is accepted.
 */
export function envelopeCiphertext(body: string): string | null {
  const root = /^\s*<xml>/.exec(body);
  if (!root) return null;
  let at = root[0].length;
  let ciphertext: string | null = null;
  for (;;) {
    ENVELOPE_ELEMENT.lastIndex = at;
    const element = ENVELOPE_ELEMENT.exec(body);
    if (!element) break;
    if (element[1] === 'Encrypt') {
      const value = element[2] ?? element[3];
      if (ciphertext !== null || !BASE64.test(value)) return null;
      ciphertext = value;
    }
    at = ENVELOPE_ELEMENT.lastIndex;
  }
  return /^\s*<\/xml>\s*$/.test(body.slice(at)) ? ciphertext : null;
}

/** One element of a flat message: `<Name>text</Name>` (no markup or entity in the text) or `<Name><![CDATA[text]]></Name>`. */
const MESSAGE_ELEMENT = /\s*<([A-Za-z_]\w*)>(?:<!\[CDATA\[((?:[^\]]|\](?!\]>))*)\]\]>|([^<&]*))<\/\1>/y;

/**
 * A decrypted message that is flat (one `<xml>` root whose elements each hold text or one CDATA section, no name
 * twice), read without the XML parser into what the parser gives for it: the elements by name, in order, their
 * text trimmed and CDATA as it is. Null for anything else (nested lists such as a group's MemChangeList, repeated
 * names, entities, attributes, a declaration), which the caller parses whole as before.
 */
export function flatMessage(message: string): Record<string, string> | null {
  const root = /^\s*<xml>/.exec(message);
  if (!root) return null;
  const fields: Record<string, string> = {};
  let at = root[0].length;
  let count = 0;
  for (;;) {
    MESSAGE_ELEMENT.lastIndex = at;
    const element = MESSAGE_ELEMENT.exec(message);
    if (!element) break;
    const name = element[1];
    if (name === '__proto__' || Object.hasOwn(fields, name)) return null;
    fields[name] = element[2] ?? element[3].trim();
    count++;
    at = MESSAGE_ELEMENT.lastIndex;
  }
  return count && /^\s*<\/xml>\s*$/.test(message.slice(at)) ? fields : null;
}
