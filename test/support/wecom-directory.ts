import QRCode from 'qrcode';
import type { WecomCall, WecomRoute, WecomServer } from './wecom-server';

/**
 * A corporation's directory as WeCom's server API shows it (members, external contacts with the members who
 * follow them, corp tags, customer groups), and the routes that serve it on a WecomServer, following WeCom's
 * published reference (通讯录管理 / 客户联系) for request and response shapes, cursors, limits and errcodes:
 *
 * - `user/list_id` (POST cursor, limit 1..10000 → dept_user, next_cursor) and `user/get` (GET userid; 60111
 *   unknown userid; `email` absent when WeCom withholds it, as it does from apps created after 2022-06-20);
 * - `externalcontact/get_follow_user_list` (members with the customer-contact permission);
 * - `externalcontact/batch/get_by_user` (userid_list 1..100, cursor, limit 1..100 → external_contact_list of
 *   { external_contact, follow_info } pairs, one per contact and following member, next_cursor);
 * - `externalcontact/get` (external_userid → external_contact and follow_user with their corp tags; 84061);
 * - `externalcontact/get_corp_tag_list`, `add_corp_tag`, `edit_corp_tag`, `del_corp_tag` (40068 invalid tagid),
 *   `mark_tag` (84061 no such relationship, 40068 a tag id WeCom does not know);
 * - `externalcontact/add_contact_way` (type 1 single / 2 multi, scene 1 mini-program / 2 QR, user list, state of
 *   at most 30 characters → config_id and a qr_code URL this server serves as a PNG), `get_contact_way`,
 *   `update_contact_way`, `del_contact_way` (41044-style unknown config ids answer 40058 invalid parameter);
 * - `externalcontact/groupchat/list` (status_filter, owner_filter, cursor, limit 1..1000) and `groupchat/get`
 *   (40050 unknown chat_id).
 *
 * 40058 is WeCom's "invalid parameter" answer for an out-of-range list or limit. Cursors are opaque strings.
 */
export interface DirMember {
  userid: string;
  name: string;
  /** absent: WeCom withholds it (newer apps) or the member has none */
  email?: string;
  department?: number[];
  /** has the customer-contact permission (appears in get_follow_user_list); default true */
  followsCustomers?: boolean;
}

export interface DirFollow {
  userid: string;
  /** seconds since the epoch, when the member added the contact */
  createtime: number;
  tags?: string[];
  remark?: string;
  /** the contact way's state the member was added through */
  state?: string;
}

export interface DirContact {
  external_userid: string;
  name: string;
  /** 1 WeChat user, 2 WeCom user */
  type?: 1 | 2;
  follows: DirFollow[];
}

export interface DirTag {
  id: string;
  name: string;
  order: number;
  create_time?: number;
}

export interface DirTagGroup {
  group_id: string;
  group_name: string;
  order: number;
  create_time?: number;
  tags: DirTag[];
}

export interface DirChat {
  chat_id: string;
  name: string;
  owner: string;
  /** 0 normal, 1 owner left (awaiting inheritance), 2 inheriting, 3 inherited */
  status?: 0 | 1 | 2 | 3;
  create_time?: number;
  /** type 1 a member of the corporation, 2 an external contact */
  members: { userid: string; type: 1 | 2; join_time?: number }[];
}

/** A "contact me" configuration (联系我), as add_contact_way made it. */
export interface DirContactWay {
  config_id: string;
  type: 1 | 2;
  scene: 1 | 2;
  state?: string;
  user: string[];
  remark?: string;
  skip_verify?: boolean;
  qr_code: string;
}

/** One corporation's directory; tests change it between syncs. */
export class WecomDirectory {
  readonly contactWays = new Map<string, DirContactWay>();
  readonly members = new Map<string, DirMember>();
  readonly contacts = new Map<string, DirContact>();
  readonly chats = new Map<string, DirChat>();
  tagGroups: DirTagGroup[] = [];
  private seq = 0;

  member(m: DirMember): this {
    this.members.set(m.userid, m);
    return this;
  }

  contact(c: DirContact): this {
    this.contacts.set(c.external_userid, c);
    return this;
  }

  chat(c: DirChat): this {
    this.chats.set(c.chat_id, c);
    return this;
  }

  tagGroup(g: DirTagGroup): this {
    this.tagGroups = [...this.tagGroups.filter((x) => x.group_id !== g.group_id), g];
    return this;
  }

  /**
   * A customer scans the contact way's QR code and adds its (first) member, as WeCom records it: the follow carries
   * the configuration's state. Answers the member and state for the add_external_contact callback WeCom then sends.
   */
  scan(configId: string, externalUserId: string, name: string): { userid: string; state?: string } {
    const way = this.contactWays.get(configId);
    if (!way) throw new Error(`no contact way ${configId}`);
    const userid = way.user[0];
    const existing = this.contacts.get(externalUserId);
    const follow = { userid, createtime: Math.floor(Date.now() / 1000), tags: [], state: way.state };
    this.contact({ external_userid: externalUserId, name, follows: [...(existing?.follows ?? []).filter((f) => f.userid !== userid), follow] });
    return { userid, state: way.state };
  }

  nextId(prefix: string): string {
    return `${prefix}${(++this.seq).toString(36).padStart(6, '0')}`;
  }
}

const invalid = (what: string) => ({ errcode: 40058, errmsg: `invalid parameter: ${what}` });
const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');
const decodeCursor = (cursor: unknown): number | null => {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(String(cursor), 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
};

/** One page of `items` from a cursor: WeCom answers next_cursor "" on the last page. */
function page<T>(items: T[], cursor: unknown, limit: number): { items: T[]; next_cursor: string } | null {
  const offset = decodeCursor(cursor);
  if (offset === null) return null;
  const end = offset + limit;
  return { items: items.slice(offset, end), next_cursor: end < items.length ? encodeCursor(end) : '' };
}

const limitOf = (value: unknown, fallback: number, max: number): number | null => {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : null;
};

const sortedBy = <T>(items: Iterable<T>, key: (t: T) => string) => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/**
 * Serves `directories` (by corporation id) on the server; a corporation with no directory has an empty one.
 * Answers the routes it registered, so a test can wrap one and put it back.
 */
export function serveDirectory(server: WecomServer, directories: Map<string, WecomDirectory>): Map<string, WecomRoute> {
  const routes = new Map<string, WecomRoute>();
  const register = { route: (path: string, handler: WecomRoute) => (routes.set(path, handler), server.route(path, handler), register) };
  const dir = (call: WecomCall) => {
    let d = directories.get(call.corp.corpId);
    if (!d) directories.set(call.corp.corpId, (d = new WecomDirectory()));
    return d;
  };
  register
    .route('/cgi-bin/user/list_id', (call) => {
      const limit = limitOf(call.body.limit, 10000, 10000);
      if (limit === null) return invalid('limit');
      const p = page(sortedBy(dir(call).members.values(), (m) => m.userid), call.body.cursor, limit);
      if (!p) return invalid('cursor');
      return { errcode: 0, errmsg: 'ok', next_cursor: p.next_cursor, dept_user: p.items.map((m) => ({ userid: m.userid, department: (m.department ?? [1])[0] })) };
    })
    .route('/cgi-bin/user/get', (call) => {
      const m = dir(call).members.get(call.query.get('userid') ?? '');
      if (!m) return { errcode: 60111, errmsg: 'userid not found' };
      return {
        errcode: 0, errmsg: 'ok', userid: m.userid, name: m.name, department: m.department ?? [1], status: 1,
        ...(m.email === undefined ? {} : { email: m.email }),
      };
    })
    .route('/cgi-bin/externalcontact/get_follow_user_list', (call) => ({
      errcode: 0, errmsg: 'ok',
      follow_user: sortedBy([...dir(call).members.values()].filter((m) => m.followsCustomers !== false), (m) => m.userid).map((m) => m.userid),
    }))
    .route('/cgi-bin/externalcontact/batch/get_by_user', (call) => {
      const users = call.body.userid_list;
      if (!Array.isArray(users) || users.length < 1 || users.length > 100) return invalid('userid_list');
      const limit = limitOf(call.body.limit, 50, 100);
      if (limit === null) return invalid('limit');
      // one pair per (member, contact), members in the order asked, contacts in a stable order
      const d = dir(call);
      const contacts = sortedBy(d.contacts.values(), (c) => c.external_userid);
      const pairs = users.flatMap((userid) => contacts.flatMap((c) => c.follows.filter((f) => f.userid === userid).map((f) => ({ c, f }))));
      const p = page(pairs, call.body.cursor, limit);
      if (!p) return invalid('cursor');
      return {
        errcode: 0, errmsg: 'ok', next_cursor: p.next_cursor,
        external_contact_list: p.items.map(({ c, f }) => ({
          external_contact: { external_userid: c.external_userid, name: c.name, type: c.type ?? 1, avatar: '', gender: 0 },
          follow_info: { userid: f.userid, remark: f.remark ?? '', description: '', createtime: f.createtime, tag_id: f.tags ?? [], remark_mobiles: [], add_way: 1, oper_userid: f.userid },
        })),
      };
    })
    .route('/cgi-bin/externalcontact/get_corp_tag_list', (call) => {
      const tagIds = (call.body.tag_id as string[] | undefined) ?? [];
      const groupIds = (call.body.group_id as string[] | undefined) ?? [];
      const groups = dir(call).tagGroups
        .filter((g) => !groupIds.length || groupIds.includes(g.group_id))
        .map((g) => ({ g, tags: g.tags.filter((t) => !tagIds.length || tagIds.includes(t.id)) }))
        .filter(({ tags }) => !tagIds.length || tags.length);
      return {
        errcode: 0, errmsg: 'ok',
        tag_group: groups.map(({ g, tags }) => ({
          group_id: g.group_id, group_name: g.group_name, create_time: g.create_time ?? 1700000000, order: g.order,
          tag: tags.map((t) => ({ id: t.id, name: t.name, create_time: t.create_time ?? 1700000000, order: t.order })),
        })),
      };
    })
    .route('/cgi-bin/externalcontact/add_corp_tag', (call) => {
      const d = dir(call);
      const tags = call.body.tag as { name?: string; order?: number }[] | undefined;
      if (!Array.isArray(tags) || !tags.length || tags.some((t) => !t.name)) return invalid('tag');
      let group = d.tagGroups.find((g) => g.group_id === call.body.group_id || (!call.body.group_id && g.group_name === call.body.group_name));
      if (call.body.group_id && !group) return { errcode: 40068, errmsg: 'invalid tagid' };
      if (!group) {
        if (!call.body.group_name) return invalid('group_name');
        group = { group_id: d.nextId('et'), group_name: String(call.body.group_name), order: Number(call.body.order ?? 0), tags: [] };
        d.tagGroups.push(group);
      }
      const created: DirTag[] = [];
      for (const t of tags) {
        if (group.tags.some((x) => x.name === t.name)) return { errcode: 40071, errmsg: 'UserTag Name Already Exist' };
        const tag = { id: d.nextId('et'), name: t.name!, order: t.order ?? 0, create_time: Math.floor(Date.now() / 1000) };
        group.tags.push(tag);
        created.push(tag);
      }
      return {
        errcode: 0, errmsg: 'ok',
        tag_group: { group_id: group.group_id, group_name: group.group_name, create_time: group.create_time ?? 1700000000, order: group.order, tag: created },
      };
    })
    .route('/cgi-bin/externalcontact/mark_tag', (call) => {
      const d = dir(call);
      const contact = d.contacts.get(String(call.body.external_userid ?? ''));
      const follow = contact?.follows.find((f) => f.userid === call.body.userid);
      if (!contact || !follow) return { errcode: 84061, errmsg: 'not external contact' };
      const known = new Set(d.tagGroups.flatMap((g) => g.tags.map((t) => t.id)));
      const add = (call.body.add_tag as string[] | undefined) ?? [];
      const remove = (call.body.remove_tag as string[] | undefined) ?? [];
      if (!add.length && !remove.length) return invalid('add_tag');
      if ([...add, ...remove].some((id) => !known.has(id))) return { errcode: 40068, errmsg: 'invalid tagid' };
      follow.tags = [...new Set([...(follow.tags ?? []).filter((t) => !remove.includes(t)), ...add])];
      return { errcode: 0, errmsg: 'ok' };
    })
    .route('/cgi-bin/externalcontact/get', (call) => {
      const d = dir(call);
      const c = d.contacts.get(call.query.get('external_userid') ?? '');
      if (!c) return { errcode: 84061, errmsg: 'not external contact' };
      const tagOf = (id: string) => {
        const g = d.tagGroups.find((x) => x.tags.some((t) => t.id === id));
        return { group_name: g?.group_name ?? '', tag_name: g?.tags.find((t) => t.id === id)?.name ?? '', tag_id: id, type: 1 };
      };
      return {
        errcode: 0, errmsg: 'ok',
        external_contact: { external_userid: c.external_userid, name: c.name, type: c.type ?? 1, avatar: '', gender: 0 },
        follow_user: c.follows.map((f) => ({
          userid: f.userid, remark: f.remark ?? '', description: '', createtime: f.createtime, tags: (f.tags ?? []).map(tagOf),
          remark_mobiles: [], add_way: f.state ? 1 : 0, oper_userid: f.userid, ...(f.state ? { state: f.state } : {}),
        })),
        next_cursor: '',
      };
    })
    .route('/cgi-bin/externalcontact/edit_corp_tag', (call) => {
      const d = dir(call);
      const id = String(call.body.id ?? '');
      const name = call.body.name === undefined ? undefined : String(call.body.name);
      if (!id) return invalid('id');
      if (name !== undefined && (!name || name.length > 30)) return invalid('name');
      const group = d.tagGroups.find((g) => g.group_id === id);
      const tag = d.tagGroups.flatMap((g) => g.tags).find((t) => t.id === id);
      if (!group && !tag) return { errcode: 40068, errmsg: 'invalid tagid' };
      if (name !== undefined) {
        if (group) group.group_name = name;
        else tag!.name = name;
      }
      if (call.body.order !== undefined) (group ?? tag!).order = Number(call.body.order);
      return { errcode: 0, errmsg: 'ok' };
    })
    .route('/cgi-bin/externalcontact/del_corp_tag', (call) => {
      const d = dir(call);
      const tagIds = (call.body.tag_id as string[] | undefined) ?? [];
      const groupIds = (call.body.group_id as string[] | undefined) ?? [];
      if (!tagIds.length && !groupIds.length) return invalid('tag_id');
      const known = new Set([...d.tagGroups.map((g) => g.group_id), ...d.tagGroups.flatMap((g) => g.tags.map((t) => t.id))]);
      if ([...tagIds, ...groupIds].some((id) => !known.has(id))) return { errcode: 40068, errmsg: 'invalid tagid' };
      // a group left without tags is deleted with its last tag, as WeCom does
      d.tagGroups = d.tagGroups.filter((g) => !groupIds.includes(g.group_id))
        .map((g) => ({ ...g, tags: g.tags.filter((t) => !tagIds.includes(t.id)) })).filter((g) => g.tags.length);
      for (const c of d.contacts.values()) for (const f of c.follows) f.tags = (f.tags ?? []).filter((t) => !tagIds.includes(t));
      return { errcode: 0, errmsg: 'ok' };
    })
    .route('/cgi-bin/externalcontact/add_contact_way', (call) => {
      const d = dir(call);
      const b = call.body;
      const users = b.user as string[] | undefined;
      if (b.type !== 1 && b.type !== 2) return invalid('type');
      if (b.scene !== 1 && b.scene !== 2) return invalid('scene');
      if (!Array.isArray(users) || !users.length || (b.type === 1 && users.length !== 1) || users.length > 100) return invalid('user');
      if (users.some((u) => !d.members.has(u))) return { errcode: 60111, errmsg: 'userid not found' };
      if (b.state !== undefined && String(b.state).length > 30) return invalid('state');
      const configId = d.nextId('cw');
      const qrCode = `${server.baseUrl}/qr/${configId}.png`;
      void QRCode.toBuffer(`https://work.weixin.qq.com/ca/${configId}`, { width: 240, margin: 1 }).then((png) => server.images.set(`${configId}.png`, png));
      d.contactWays.set(configId, {
        config_id: configId, type: b.type, scene: b.scene, state: b.state as string | undefined, user: [...users],
        remark: b.remark as string | undefined, skip_verify: b.skip_verify as boolean | undefined, qr_code: b.scene === 2 ? qrCode : '',
      });
      return { errcode: 0, errmsg: 'ok', config_id: configId, ...(b.scene === 2 ? { qr_code: qrCode } : {}) };
    })
    .route('/cgi-bin/externalcontact/get_contact_way', (call) => {
      const way = dir(call).contactWays.get(String(call.body.config_id ?? ''));
      if (!way) return invalid('config_id');
      return { errcode: 0, errmsg: 'ok', contact_way: structuredClone(way) };
    })
    .route('/cgi-bin/externalcontact/update_contact_way', (call) => {
      const d = dir(call);
      const way = d.contactWays.get(String(call.body.config_id ?? ''));
      if (!way) return invalid('config_id');
      const users = call.body.user as string[] | undefined;
      if (users !== undefined) {
        if (!Array.isArray(users) || !users.length || (way.type === 1 && users.length !== 1)) return invalid('user');
        if (users.some((u) => !d.members.has(u))) return { errcode: 60111, errmsg: 'userid not found' };
        way.user = [...users];
      }
      if (call.body.state !== undefined) {
        if (String(call.body.state).length > 30) return invalid('state');
        way.state = String(call.body.state);
      }
      if (call.body.remark !== undefined) way.remark = String(call.body.remark);
      return { errcode: 0, errmsg: 'ok' };
    })
    .route('/cgi-bin/externalcontact/del_contact_way', (call) => {
      const d = dir(call);
      if (!d.contactWays.delete(String(call.body.config_id ?? ''))) return invalid('config_id');
      return { errcode: 0, errmsg: 'ok' };
    })
    .route('/cgi-bin/externalcontact/groupchat/list', (call) => {
      const limit = limitOf(call.body.limit, 0, 1000);
      if (limit === null || call.body.limit === undefined) return invalid('limit');
      const status = Number(call.body.status_filter ?? 0);
      if (![0, 1, 2, 3].includes(status)) return invalid('status_filter');
      const owners = (call.body.owner_filter as { userid_list?: string[] } | undefined)?.userid_list ?? [];
      const chats = sortedBy(dir(call).chats.values(), (c) => c.chat_id)
        .filter((c) => (status === 0 || (c.status ?? 0) === status) && (!owners.length || owners.includes(c.owner)));
      const p = page(chats, call.body.cursor, limit);
      if (!p) return invalid('cursor');
      return { errcode: 0, errmsg: 'ok', next_cursor: p.next_cursor, group_chat_list: p.items.map((c) => ({ chat_id: c.chat_id, status: c.status ?? 0 })) };
    })
    .route('/cgi-bin/externalcontact/groupchat/get', (call) => {
      const chat = dir(call).chats.get(String(call.body.chat_id ?? ''));
      if (!chat) return { errcode: 40050, errmsg: 'chatid not found' };
      const d = dir(call);
      return {
        errcode: 0, errmsg: 'ok',
        group_chat: {
          chat_id: chat.chat_id, name: chat.name, owner: chat.owner, create_time: chat.create_time ?? 1700000000, notice: '',
          member_list: chat.members.map((m) => ({
            userid: m.userid, type: m.type, join_time: m.join_time ?? 1700000000, join_scene: 1, invitor: { userid: chat.owner }, group_nickname: '',
            ...(call.body.need_name ? { name: m.type === 1 ? d.members.get(m.userid)?.name ?? '' : d.contacts.get(m.userid)?.name ?? '' } : {}),
          })),
          admin_list: [],
          member_version: String(chat.members.length),
        },
      };
    });
  return routes;
}
