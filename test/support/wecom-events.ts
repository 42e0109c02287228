import type { WecomCorp, WecomServer } from './wecom-server';

/**
 * What the local WeCom knows of one corporation's customers for the callback events, and the routes that read
 * it, as WeCom's server API reference describes them:
 * - `GET /cgi-bin/externalcontact/get?external_userid=` → `external_contact` and `follow_user` (userid, state,
 *   tags with tag_id and type, 1 = corp tag); 84061 when there is no such relationship;
 * - `POST /cgi-bin/externalcontact/groupchat/get {chat_id}` → `group_chat` (chat_id, name, owner, member_list
 *   with type 1 member / 2 external contact); 40050 for an unknown chat;
 * - `POST /cgi-bin/externalcontact/get_corp_tag_list {tag_id?, group_id?}` → `tag_group` (group_id, group_name,
 *   order, tag: id, name, order), filtered by tag_id (only those tags) or else by group_id.
 * And the event XML WeCom posts to the callback for each change.
 */
export interface ExternalContactData {
  external_contact: { external_userid: string; name: string; type: number };
  follow_user: { userid: string; state?: string; createtime: number; tags: { group_name: string; tag_name: string; tag_id: string; type: number }[] }[];
}
export interface GroupChatData {
  chat_id: string;
  name: string;
  owner: string;
  create_time: number;
  member_list: { userid: string; type: number; join_time: number; join_scene: number }[];
}
export interface CorpTagGroupData {
  group_id: string;
  group_name: string;
  create_time: number;
  order: number;
  tag: { id: string; name: string; create_time: number; order: number }[];
}

export class WecomCustomers {
  readonly contacts = new Map<string, ExternalContactData>();
  readonly chats = new Map<string, GroupChatData>();
  tagGroups: CorpTagGroupData[] = [];
}

/** Serves the routes above from each corporation's `WecomCustomers` (one per corp id). */
export function serveCustomerRoutes(server: WecomServer): (corp: WecomCorp) => WecomCustomers {
  const data = new Map<string, WecomCustomers>();
  const of = (corp: WecomCorp) => data.get(corp.corpId) ?? data.set(corp.corpId, new WecomCustomers()).get(corp.corpId)!;
  server.route('/cgi-bin/externalcontact/get', ({ corp, query }) => {
    const c = of(corp).contacts.get(query.get('external_userid') ?? '');
    return c ? { errcode: 0, errmsg: 'ok', ...structuredClone(c), next_cursor: '' } : { errcode: 84061, errmsg: 'not external contact' };
  });
  server.route('/cgi-bin/externalcontact/groupchat/get', ({ corp, body }) => {
    const chat = of(corp).chats.get(String(body.chat_id ?? ''));
    return chat ? { errcode: 0, errmsg: 'ok', group_chat: structuredClone(chat) } : { errcode: 40050, errmsg: 'chatid not found' };
  });
  server.route('/cgi-bin/externalcontact/get_corp_tag_list', ({ corp, body }) => {
    const tagIds = (body.tag_id as string[] | undefined) ?? [];
    const groupIds = (body.group_id as string[] | undefined) ?? [];
    let groups = structuredClone(of(corp).tagGroups);
    if (tagIds.length) groups = groups.map((g) => ({ ...g, tag: g.tag.filter((t) => tagIds.includes(t.id)) })).filter((g) => g.tag.length);
    else if (groupIds.length) groups = groups.filter((g) => groupIds.includes(g.group_id));
    return { errcode: 0, errmsg: 'ok', tag_group: groups };
  });
  return of;
}

const cdata = (fields: Record<string, string | number | undefined>) =>
  Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => (typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`)).join('');

/** The XML of one event as WeCom sends it (before encryption). */
export function eventXml(corp: WecomCorp, event: string, fields: Record<string, string | number | undefined>, extra = ''): string {
  return `<xml>${cdata({ ToUserName: corp.corpId, FromUserName: 'sys', CreateTime: Math.floor(Date.now() / 1000), MsgType: 'event', Event: event, ...fields })}${extra}</xml>`;
}

export const contactEvent = (corp: WecomCorp, changeType: string, userId: string, externalUserId: string, extra: { State?: string; WelcomeCode?: string; Source?: string } = {}) =>
  eventXml(corp, 'change_external_contact', { ChangeType: changeType, UserID: userId, ExternalUserID: externalUserId, ...extra });

export const chatEvent = (corp: WecomCorp, changeType: string, chatId: string, update?: { detail: string; members?: string[]; joinScene?: number; quitScene?: number }) =>
  eventXml(corp, 'change_external_chat', {
    ChatId: chatId, ChangeType: changeType, UpdateDetail: update?.detail, JoinScene: update?.joinScene, QuitScene: update?.quitScene,
    MemChangeCnt: update?.members?.length,
  }, update?.members ? `<MemChangeList>${update.members.map((m) => `<Item><![CDATA[${m}]]></Item>`).join('')}</MemChangeList>` : '');

export const tagEvent = (corp: WecomCorp, changeType: string, id: string, tagType?: 'tag' | 'tag_group', strategyId?: number) =>
  eventXml(corp, 'change_external_tag', { Id: id, TagType: tagType, ChangeType: changeType, StrategyId: strategyId });
