import { encrypt } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { randomBytes } from 'node:crypto';
import { envelopeCiphertext, flatMessage } from './callback-envelope';

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

describe('reading a flat decrypted message without the parser', () => {
  /** The whole parse the service falls back to: what flatMessage must give for every message it reads. */
  const whole = (message: string): unknown => (new XMLParser({ parseTagValue: false, trimValues: true, processEntities: false }).parse(message) as { xml?: unknown }).xml;

  it('gives what the parser gives for WeCom\'s flat events', () => {
    for (const message of [
      '<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000000</CreateTime>'
        + '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>'
        + '<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmABC]]></ExternalUserID><State><![CDATA[spring-fair]]></State><WelcomeCode><![CDATA[W1]]></WelcomeCode></xml>',
      '\n<xml>\n  <ToUserName><![CDATA[wwcorp]]></ToUserName>\n  <CreateTime> 1700000000 </CreateTime>\n  <Empty></Empty>\n  <Blank><![CDATA[]]></Blank>\n</xml>\n',
      '<xml><Name><![CDATA[ 陈静 ]]></Name><Odd><![CDATA[a]b]]c > d]]></Odd><Text>x > y ] z</Text><Line>\n</Line><Kept><![CDATA[\n]]></Kept></xml>',
    ]) {
      expect(flatMessage(message)).toEqual(whole(message));
    }
  });

  it('leaves every other message to the whole parse (null)', () => {
    for (const message of [
      'not xml',
      '',
      '<xml></xml>',
      '<?xml version="1.0"?><xml><Event>x</Event></xml>',
      '<xml><Event>x</Event><Event>y</Event></xml>',
      '<xml><MemChangeList><Item><![CDATA[wmA]]></Item><Item><![CDATA[wmB]]></Item></MemChangeList></xml>',
      '<xml><Event a="1">x</Event></xml>',
      '<xml><Event/></xml>',
      '<xml><Event>a &amp; b</Event></xml>',
      '<xml><Event><![CDATA[x]]> y</Event></xml>',
      '<xml><__proto__>x</__proto__></xml>',
      '<xml><Event>x</Event>',
      '<xml><Event>x</Event></xml><xml><Event>y</Event></xml>',
      '<xml><a:b>x</a:b></xml>',
    ]) {
      expect(flatMessage(message)).toBeNull();
    }
  });
});
