import { encrypt } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { randomBytes } from 'node:crypto';
import { envelopeCiphertext } from './callback-envelope';

/** The full parse the callback falls back to (wecom.service.ts): what the envelope's reading must agree with. */
const parsed = (body: string): unknown => {
  const root = (new XMLParser({ parseTagValue: false, trimValues: true, processEntities: false }).parse(body) as { xml?: Record<string, unknown> }).xml;
  return root?.Encrypt;
};

describe('reading the ciphertext from WeCom\'s callback envelope', () => {
  const key = randomBytes(32).toString('base64').slice(0, 43);
  const ciphertext = encrypt(key, '<xml><Event><![CDATA[change_external_contact]]></Event></xml>', 'wwcorp');
  const envelope = `<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><Encrypt><![CDATA[${ciphertext}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;

  it('reads WeCom\'s envelope directly, as the parser reads it', () => {
    for (const body of [
      envelope,
      `\n<xml>\n  <ToUserName><![CDATA[wwcorp]]></ToUserName>\n  <Encrypt><![CDATA[${ciphertext}]]></Encrypt>\n  <AgentID>1000002</AgentID>\n</xml>\n`,
      `<xml><Encrypt>${ciphertext}</Encrypt></xml>`,
      `<xml><Encrypt><![CDATA[${ciphertext}]]></Encrypt><Empty></Empty></xml>`,
    ]) {
      expect(envelopeCiphertext(body)).toBe(ciphertext);
      expect(parsed(body)).toBe(ciphertext);
    }
  });

  it('leaves every other body to the full parse (null)', () => {
    for (const body of [
      'not xml',
      '',
      `<?xml version="1.0"?>${envelope}`,
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
      `<xml><Encrypt><![CDATA[${ciphertext}]]></Encrypt><Encrypt><![CDATA[${ciphertext}]]></Encrypt></xml>`,
      `<xml><Encrypt><![CDATA[ ${ciphertext} ]]></Encrypt></xml>`,
      `<xml><Encrypt a="1"><![CDATA[${ciphertext}]]></Encrypt></xml>`,
      `<xml><Outer><Inner>x</Inner></Outer><Encrypt><![CDATA[${ciphertext}]]></Encrypt></xml>`,
      `<xml><Encrypt><![CDATA[${ciphertext}]]></Encrypt></xml><xml><Encrypt><![CDATA[QUJD]]></Encrypt></xml>`,
      `<xml><Encrypt><![CDATA[${ciphertext}]]></Encrypt>`,
      `<xml><Encrypt><![CDATA[not base64!]]></Encrypt></xml>`,
      '<xml><ToUserName>wwcorp</ToUserName></xml>',
      '<xml><Encrypt></Encrypt></xml>',
    ]) {
      expect(envelopeCiphertext(body)).toBeNull();
    }
  });
});
