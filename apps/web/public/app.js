// The dashboard: login, and the employee's task inbox (lists, task panel, actions, keyboard), in Chinese and English.
// Plain browser JavaScript with no dependencies: the API serves these files as they are.
'use strict';

const CHANNELS = ['wecom_chat', 'group_chat', 'moments', 'official_account', 'mini_program', 'video_channel', 'sms', 'email', 'phone_call', 'offline_visit', 'other'];
const OUTCOMES = ['sent', 'replied', 'interested', 'not_interested', 'bought', 'wrong_contact', 'other'];
const LISTS = ['today', 'overdue', 'upcoming', 'done'];
const PAGE = 50;

const TEXT = {
  zh: {
    docs: 'API 文档', welcome: '欢迎回来', tagline: '为运营、员工和主管设计的 SOP 触达引擎', email: '邮箱', password: '密码',
    signin: '登录', hello: '你好', organization: '组织', role: '角色', signout: '退出登录', other: 'English', skipToContent: '跳到主要内容',
    roles: { admin: '管理员', ops: '运营', manager: '主管', employee: '员工' },
    errors: { INVALID_CREDENTIALS: '邮箱或密码错误。', RATE_LIMITED: '尝试次数过多，请一分钟后再试。', VALIDATION_FAILED: '请填写有效的邮箱和密码。' },
    inboxTitle: '我的任务', teamInboxTitle: '我和团队的任务',
    keysHint: '快捷键：j / k 上下移动 · c 复制话术 · Enter 标记为已发送 · Esc 关闭详情',
    listToday: '今天', listOverdue: '已逾期', listUpcoming: '即将到来', listDone: '已完成',
    filterSop: 'SOP', filterChannel: '渠道', filterWho: '谁的任务', allSops: '全部 SOP', allChannels: '全部渠道', whoTeam: '我和团队', whoMe: '只看我的',
    outcome: '结果', bulkComplete: '完成所选', clearSelection: '取消选择', bulkSelected: (n) => `已选 ${n} 项`,
    bulkDone: (n) => `已完成 ${n} 项任务`, bulkRefused: (n) => `${n} 项未能完成：`,
    loadMore: '加载更多', loading: '加载中…', selectAll: '全选本页', account: '账户',
    empty: {
      today: ['今天没有待办任务', '新任务到期时会出现在这里；可以看看“即将到来”提前准备。'],
      overdue: ['没有逾期任务', '做得好！在时间窗口内完成任务，它们就不会出现在这里。'],
      upcoming: ['暂时没有即将到来的任务', '之后到期的任务和被推迟的任务会出现在这里。'],
      done: ['还没有完成的任务', '完成或跳过的任务会出现在这里。'],
      filtered: '当前筛选条件下没有任务：清除筛选可查看全部任务。',
    },
    channels: {
      wecom_chat: '企微私聊', group_chat: '客户群', moments: '朋友圈', official_account: '公众号', mini_program: '小程序', video_channel: '视频号',
      sms: '短信', email: '邮件', phone_call: '电话', offline_visit: '到店/拜访', other: '其他',
    },
    outcomes: { sent: '已发送', replied: '客户已回复', interested: '有兴趣', not_interested: '没兴趣', bought: '已购买', wrong_contact: '联系人有误', other: '其他' },
    statuses: { pending: '待办', done: '已完成', skipped: '已跳过', expired: '已过期', cancelled: '已取消' },
    actions: { completed: '完成', skipped: '跳过', snoozed: '推迟', reassigned: '转交', created: '创建' },
    responseKinds: {
      replied: '回复了', opened: '打开了素材', bought: '购买了', joined: '加入', joined_group: '加入了群', left_group: '退出了群',
      unsubscribed: '退订了', outcome: '员工记录', custom: '事件',
    },
    minutes: (n) => `${n} 分钟`, hours: (h, m) => (m ? `${h} 小时 ${m} 分钟` : `${h} 小时`), days: (n) => `${n} 天`,
    opensIn: (d) => `${d}后开始`, closesIn: (d) => `还剩 ${d}截止`, overdueBy: (d) => `已逾期 ${d}`, dueAt: (t) => `${t} 开始`,
    snoozedUntil: (t) => `已推迟到 ${t}`, finishedAt: (t) => `完成于 ${t}`, onTime: '按时', late: '超时', window: '时间窗口',
    today: '今天', tomorrow: '明天',
    status: '状态', group: '群', assignee: '执行人', unassigned: '未分配', sop: 'SOP', channel: '渠道',
    close: '关闭', message: '话术', copy: '复制话术', copyShort: '复制', copied: '已复制，可以粘贴到企业微信了', copyFailed: '无法自动复制，请选中文字后手动复制。',
    copyFor: (n) => `复制给 ${n} 的话术`, sentFor: (n) => `把给 ${n} 的任务标记为已发送`, selectFor: (n) => `选择 ${n} 的任务`, sentShort: '已发送',
    materials: '素材', copyLink: '复制链接', linkCopied: '链接已复制', trackedHint: '这是本任务专属的追踪链接，客户打开后会自动记录。',
    customer: '客户', tags: '标签', noTags: '暂无标签', responses: '最近的响应', noResponses: '暂无响应',
    history: '任务记录', noHistory: '还没有操作记录',
    completeTitle: '完成任务', note: '备注（可选）', notePlaceholder: '例如：客户说下周到店', completeBtn: '完成',
    skipTitle: '跳过', reason: '原因', reasonPlaceholder: '例如：客户这周不方便联系', skipBtn: '跳过任务',
    snoozeTitle: '推迟', snooze1h: '1 小时后', snoozeTomorrow: '明天 9:00', snoozeCustom: '自定义时间', snoozeBtn: '推迟到此时间',
    completedToast: '任务已完成', skippedToast: '任务已跳过', snoozedToast: (t) => `已推迟到 ${t}`,
    failed: (m) => `操作失败：${m}`, network: '网络有问题，请稍后再试。', expired: '登录已过期，请重新登录。', pickTime: '请选择一个时间。',
    notifications: '通知', markAllRead: '全部已读', markRead: '标为已读', noNotifications: '暂时没有通知。新的提醒会实时出现在这里。',
    bellLabel: (n) => (n ? `通知，${n} 条未读` : '通知'), unread: '未读',
    notFinished: '这个任务已经结束。', taskGone: '找不到这个任务（可能已转交给别人）。',
  },
  en: {
    docs: 'API docs', welcome: 'Welcome back', tagline: 'The SOP outreach engine for ops, employees and managers', email: 'Email',
    password: 'Password', signin: 'Sign in', hello: 'Hello', organization: 'Organization', role: 'Role', signout: 'Sign out', other: '中文',
    skipToContent: 'Skip to content',
    roles: { admin: 'Admin', ops: 'Operations', manager: 'Manager', employee: 'Employee' },
    errors: { INVALID_CREDENTIALS: 'The email or password is wrong.', RATE_LIMITED: 'Too many attempts: wait a minute and try again.', VALIDATION_FAILED: 'Enter a valid email and password.' },
    inboxTitle: 'My tasks', teamInboxTitle: 'My and my team\'s tasks',
    keysHint: 'Keys: j / k to move · c to copy the message · Enter to mark as sent · Esc to close',
    listToday: 'Today', listOverdue: 'Overdue', listUpcoming: 'Upcoming', listDone: 'Done',
    filterSop: 'SOP', filterChannel: 'Channel', filterWho: 'Whose tasks', allSops: 'All SOPs', allChannels: 'All channels', whoTeam: 'Me and my team', whoMe: 'Only mine',
    outcome: 'Outcome', bulkComplete: 'Complete selected', clearSelection: 'Clear selection', bulkSelected: (n) => `${n} selected`,
    bulkDone: (n) => `${n} ${n === 1 ? 'task' : 'tasks'} completed`, bulkRefused: (n) => `${n} could not be completed:`,
    loadMore: 'Load more', loading: 'Loading…', selectAll: 'Select all on this page', account: 'Account',
    empty: {
      today: ['Nothing left for today', 'New tasks appear here as they fall due; look at Upcoming to prepare.'],
      overdue: ['No overdue tasks', 'Well done! Finish tasks within their window and they never land here.'],
      upcoming: ['Nothing coming up', 'Tasks due later and snoozed tasks appear here.'],
      done: ['Nothing done yet', 'Tasks you complete or skip appear here.'],
      filtered: 'No tasks match these filters: clear them to see every task.',
    },
    channels: {
      wecom_chat: 'WeCom chat', group_chat: 'Customer group', moments: 'Moments', official_account: 'Official account', mini_program: 'Mini program',
      video_channel: 'Video channel', sms: 'SMS', email: 'Email', phone_call: 'Phone call', offline_visit: 'Visit', other: 'Other',
    },
    outcomes: { sent: 'Sent', replied: 'Customer replied', interested: 'Interested', not_interested: 'Not interested', bought: 'Bought', wrong_contact: 'Wrong contact', other: 'Other' },
    statuses: { pending: 'Pending', done: 'Done', skipped: 'Skipped', expired: 'Expired', cancelled: 'Cancelled' },
    actions: { completed: 'Completed', skipped: 'Skipped', snoozed: 'Snoozed', reassigned: 'Reassigned', created: 'Created' },
    responseKinds: {
      replied: 'Replied', opened: 'Opened a material', bought: 'Bought', joined: 'Joined', joined_group: 'Joined a group', left_group: 'Left a group',
      unsubscribed: 'Unsubscribed', outcome: 'Recorded by an employee', custom: 'Event',
    },
    minutes: (n) => `${n} min`, hours: (h, m) => (m ? `${h} h ${m} min` : `${h} h`), days: (n) => `${n} ${n === 1 ? 'day' : 'days'}`,
    opensIn: (d) => `opens in ${d}`, closesIn: (d) => `closes in ${d}`, overdueBy: (d) => `overdue by ${d}`, dueAt: (t) => `starts ${t}`,
    snoozedUntil: (t) => `snoozed until ${t}`, finishedAt: (t) => `finished ${t}`, onTime: 'on time', late: 'late', window: 'Window',
    today: 'today', tomorrow: 'tomorrow',
    status: 'Status', group: 'Group', assignee: 'Assignee', unassigned: 'Unassigned', sop: 'SOP', channel: 'Channel',
    close: 'Close', message: 'Message', copy: 'Copy message', copyShort: 'Copy', copied: 'Copied: paste it into WeCom', copyFailed: 'Could not copy: select the text and copy it by hand.',
    copyFor: (n) => `Copy the message for ${n}`, sentFor: (n) => `Mark the task for ${n} as sent`, selectFor: (n) => `Select the task for ${n}`, sentShort: 'Sent',
    materials: 'Materials', copyLink: 'Copy link', linkCopied: 'Link copied', trackedHint: 'This link is unique to this task: an open is recorded for the customer.',
    customer: 'Customer', tags: 'Tags', noTags: 'No tags', responses: 'Recent responses', noResponses: 'No responses yet',
    history: 'History', noHistory: 'Nothing has happened yet',
    completeTitle: 'Complete', note: 'Note (optional)', notePlaceholder: 'e.g. will visit the store next week', completeBtn: 'Complete',
    skipTitle: 'Skip', reason: 'Reason', reasonPlaceholder: 'e.g. asked not to be contacted this week', skipBtn: 'Skip task',
    snoozeTitle: 'Snooze', snooze1h: '1 hour', snoozeTomorrow: 'Tomorrow 9:00', snoozeCustom: 'Custom time', snoozeBtn: 'Snooze until then',
    completedToast: 'Task completed', skippedToast: 'Task skipped', snoozedToast: (t) => `Snoozed until ${t}`,
    failed: (m) => `That did not work: ${m}`, network: 'Network problem: try again in a moment.', expired: 'Your session ended: sign in again.', pickTime: 'Pick a time.',
    notifications: 'Notifications', markAllRead: 'Mark all read', markRead: 'Mark read', noNotifications: 'No notifications yet. New reminders appear here as they happen.',
    bellLabel: (n) => (n ? `Notifications, ${n} unread` : 'Notifications'), unread: 'Unread',
    notFinished: 'This task is finished.', taskGone: 'That task is not here (it may have been handed to someone else).',
  },
};

let lang = localStorage.getItem('lang') || (navigator.language.startsWith('zh') ? 'zh' : 'en');
let me = null;
const $ = (id) => document.getElementById(id);
const T = () => TEXT[lang];
const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Shanghai';

const inbox = {
  list: 'today', items: [], cursor: null, loading: false, counts: { today: 0, overdue: 0, upcoming: 0, done: 0 },
  filters: { sopId: '', channel: '', executorId: '' }, sops: new Map(), active: -1, selected: new Set(),
  detail: null, detailError: '', listError: '', seq: 0,
};

/** Builds an element: h('button', { type: 'button', onclick }, 'text', child). Text is always set as text, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${sessionStorage.getItem('token')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', T().network);
  }
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    signOut(T().expired);
    throw new ApiError(401, data?.code || 'UNAUTHENTICATED', T().expired);
  }
  if (!res.ok) throw new ApiError(res.status, data?.code || 'ERROR', data?.message || res.statusText);
  return data;
}

// ---------------------------------------------------------------- time

const fmtTime = (d) => new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(d);
const fmtDate = (d) => new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { month: 'short', day: 'numeric' }).format(d);
const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

/** "14:30", "tomorrow 09:00" or "25 Nov 09:00", in the browser's time zone. */
function when(value) {
  const d = new Date(value);
  const now = new Date();
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (dayKey(d) === dayKey(now)) return fmtTime(d);
  if (dayKey(d) === dayKey(tomorrow)) return `${T().tomorrow} ${fmtTime(d)}`;
  return `${fmtDate(d)} ${fmtTime(d)}`;
}

function span(ms) {
  const t = T();
  const min = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (min < 60) return t.minutes(min);
  if (min < 48 * 60) return t.hours(Math.floor(min / 60), min % 60);
  return t.days(Math.round(min / 1440));
}

/** What a person needs to know about a task's time: a hint and how urgent it is (warn, soon or calm). */
function dueHint(task, now = Date.now()) {
  const t = T();
  if (task.status !== 'pending') {
    const at = task.finishedAt ? t.finishedAt(when(task.finishedAt)) : '';
    const timing = task.onTime === true ? ` · ${t.onTime}` : task.onTime === false ? ` · ${t.late}` : '';
    return { text: `${at}${timing}`, level: task.onTime === false ? 'warn' : 'calm' };
  }
  const from = Date.parse(task.dueAt);
  const until = Date.parse(task.dueUntil);
  if (until < now) return { text: t.overdueBy(span(now - until)), level: 'warn' };
  if (task.snoozedUntil && Date.parse(task.snoozedUntil) > now) return { text: t.snoozedUntil(when(task.snoozedUntil)), level: 'calm' };
  if (from > now) return { text: from - now < 6 * 3600000 ? t.opensIn(span(from - now)) : t.dueAt(when(task.dueAt)), level: 'calm' };
  return { text: t.closesIn(span(until - now)), level: until - now <= 3600000 ? 'soon' : 'calm' };
}

/** The window: "10:00 – 12:00" on one day, each end with its day when it spans days. */
function windowText(task) {
  const from = new Date(task.dueAt);
  const until = new Date(task.dueUntil);
  if (dayKey(from) === dayKey(until)) return `${when(from)} – ${fmtTime(until)}`;
  const day = (d) => (dayKey(d) === dayKey(new Date()) ? `${T().today} ${fmtTime(d)}` : when(d));
  return `${day(from)} – ${day(until)}`;
}

// ---------------------------------------------------------------- page shell

function render() {
  const t = T();
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t[el.dataset.i18n]));
  $('lang').textContent = t.other;
  $('account-nav').setAttribute('aria-label', t.account);
  $('lang').setAttribute('aria-label', lang === 'zh' ? 'Switch to English' : '切换到中文');
  const employeeLike = me && (me.role === 'employee' || me.role === 'manager') && me.userId;
  $('login-card').hidden = Boolean(me);
  $('me-card').hidden = !me || employeeLike;
  $('inbox').hidden = !employeeLike;
  $('logout').hidden = !me;
  $('who').hidden = !me;
  document.querySelector('main').classList.toggle('centered', !employeeLike);
  if (me) {
    $('me-name').textContent = me.name || me.email || 'API key';
    $('me-org').textContent = me.organization;
    $('me-role').textContent = t.roles[me.role] || me.role;
    $('who').textContent = `${me.name || me.email || ''} · ${t.roles[me.role] || me.role}`;
  }
  if (employeeLike) renderInbox();
  renderBell();
}

async function loadMe() {
  const token = sessionStorage.getItem('token');
  if (!token) return render();
  const res = await fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
  me = res?.ok ? await res.json() : null;
  if (!me) sessionStorage.removeItem('token');
  render();
  if (me && !$('inbox').hidden) startInbox();
  if (me) startBell();
}

function signOut(message) {
  sessionStorage.removeItem('token');
  me = null;
  stopInbox();
  stopBell();
  render();
  $('error').hidden = !message;
  $('error').textContent = message || '';
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const res = await fetch('/api/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
  });
  const body = await res.json();
  $('error').hidden = res.ok;
  // Known error codes read in the page's language; anything else shows the server's message.
  if (!res.ok) return ($('error').textContent = T().errors[body.code] || body.message);
  sessionStorage.setItem('token', body.accessToken);
  event.target.reset();
  loadMe();
});
$('logout').addEventListener('click', () => signOut());
$('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lang', lang); render(); });

let toastTimer;
function toast(message, level = 'ok') {
  const el = $('toast');
  el.textContent = message;
  el.className = `toast show ${level}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = 'toast'), 3500);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Pages served over plain http (not localhost) have no clipboard API: the old way still works there.
    const area = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
    return ok;
  }
}

async function copyMessage(task) {
  if (!task) return;
  const ok = await copyText(task.content);
  toast(ok ? T().copied : T().copyFailed, ok ? 'ok' : 'error');
}

// ---------------------------------------------------------------- inbox: loading

let timers = [];
function startInbox() {
  stopInbox();
  const hash = location.hash.match(/^#\/inbox\/tasks\/(\d+)$/);
  loadList();
  refreshCounts();
  if (hash) openDetail(hash[1], { focus: true });
  timers = [
    setInterval(updateHints, 30000),
    setInterval(() => refreshCounts({ reload: true }), 60000),
  ];
}

function stopInbox() {
  timers.forEach(clearInterval);
  timers = [];
  Object.assign(inbox, { items: [], cursor: null, active: -1, detail: null, detailError: '', listError: '' });
  inbox.selected.clear();
}

function query(extra = {}) {
  const q = new URLSearchParams({ tz: TZ });
  if (inbox.filters.executorId) q.set('executorId', inbox.filters.executorId);
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  return q.toString();
}

/** reload: when the current list's count moved (new tasks fell due, another device acted), the list follows quietly. */
async function refreshCounts({ reload = false } = {}) {
  const before = inbox.counts[inbox.list];
  try {
    inbox.counts = await api('GET', `/api/inbox/counts?${query()}`);
    renderCounts();
  } catch { return; /* the list shows errors; counts follow on the next refresh */ }
  if (reload && inbox.counts[inbox.list] !== before && !inbox.loading && !inbox.selected.size) loadList({ quiet: true });
}

/**
 * Loads the current list from its first page (more: appends the next page). quiet: a background refresh that
 * keeps the rows on screen until the new ones arrive and keeps the cursor on the same task.
 */
async function loadList({ more = false, quiet = false } = {}) {
  const seq = ++inbox.seq;
  const activeId = inbox.items[inbox.active]?.id;
  inbox.loading = true;
  if (!more && !quiet) { inbox.items = []; inbox.cursor = null; inbox.active = -1; inbox.selected.clear(); }
  if (!quiet) renderList();
  try {
    const { sopId, channel } = inbox.filters;
    const page = await api('GET', `/api/inbox/tasks?${query({ list: inbox.list, limit: PAGE, sopId, channel, cursor: more ? inbox.cursor : '' })}`);
    if (seq !== inbox.seq) return;
    inbox.items = more ? [...inbox.items, ...page.items] : page.items;
    inbox.cursor = page.nextCursor;
    inbox.listError = '';
    for (const task of page.items) inbox.sops.set(task.sopId, task.sopName);
    if (quiet) {
      const i = inbox.items.findIndex((x) => x.id === activeId);
      inbox.active = i >= 0 ? i : inbox.items.length ? 0 : -1;
      for (const id of inbox.selected) if (!inbox.items.some((x) => x.id === id)) inbox.selected.delete(id);
    } else if (inbox.active < 0 && inbox.items.length) inbox.active = 0;
  } catch (err) {
    if (seq !== inbox.seq) return;
    inbox.listError = T().failed(err.message);
  } finally {
    if (seq === inbox.seq) inbox.loading = false;
  }
  if (seq !== inbox.seq) return;
  if (!quiet) renderFilters();
  renderList();
}

async function openDetail(id, { focus = false } = {}) {
  const index = inbox.items.findIndex((x) => x.id === id);
  if (index >= 0) inbox.active = index;
  history.replaceState(null, '', `#/inbox/tasks/${id}`);
  const keep = inbox.detail?.id === id;
  if (!keep) inbox.detail = { id, loading: true, ...(inbox.items[index] || {}) };
  inbox.detailError = '';
  renderList();
  renderDetail();
  try {
    const detail = await api('GET', `/api/inbox/tasks/${id}`);
    if (inbox.detail?.id !== id) return;
    inbox.detail = detail;
  } catch (err) {
    if (inbox.detail?.id !== id) return;
    inbox.detail = { id, missing: true };
    inbox.detailError = err.status === 404 ? T().taskGone : T().failed(err.message);
  }
  renderDetail();
  if (focus) $('detail-title')?.focus();
}

function closeDetail() {
  const id = inbox.detail?.id;
  inbox.detail = null;
  history.replaceState(null, '', '#/inbox');
  renderDetail();
  const row = id && $(`task-${id}`);
  if (row) row.focus();
}

// ---------------------------------------------------------------- inbox: actions

/** After an action: the task leaves lists it no longer belongs to, counts follow, the panel moves on. */
function afterAction(task) {
  const index = inbox.items.findIndex((x) => x.id === task.id);
  const stays = inbox.list === 'done' ? task.status !== 'pending' : task.status === 'pending' && belongsNow(task);
  if (index >= 0) {
    if (stays) inbox.items[index] = { ...inbox.items[index], ...task };
    else {
      inbox.items.splice(index, 1);
      inbox.selected.delete(task.id);
      if (inbox.active >= inbox.items.length) inbox.active = inbox.items.length - 1;
    }
  }
  refreshCounts();
  renderList();
  if (inbox.detail?.id === task.id) {
    const next = !stays && inbox.items[inbox.active];
    if (next) openDetail(next.id);
    else if (stays) openDetail(task.id);
    else closeDetail();
  }
}

/** Whether a still-pending task belongs to the current list after a snooze. */
function belongsNow(task) {
  const now = Date.now();
  const snoozed = task.snoozedUntil && Date.parse(task.snoozedUntil) > now;
  if (inbox.list === 'overdue') return Date.parse(task.dueUntil) < now;
  if (inbox.list === 'today') return !snoozed;
  return true;
}

async function act(id, action, body, success) {
  inbox.detailError = '';
  try {
    const task = await api('POST', `/api/inbox/tasks/${id}/${action}`, body);
    toast(typeof success === 'function' ? success(task) : success);
    afterAction(task);
    return task;
  } catch (err) {
    // finished elsewhere (another device, a manager, an exit rule): the lists catch up
    if (err.status === 409 || err.status === 404) { refreshCounts(); loadList({ quiet: true }); }
    if (inbox.detail?.id === id) {
      inbox.detailError = T().failed(err.message);
      renderDetail();
    } else {
      toast(T().failed(err.message), 'error');
    }
    return null;
  }
}

const complete = (id, outcome, note) => act(id, 'complete', note ? { outcome, note } : { outcome }, T().completedToast);
const skip = (id, reason) => act(id, 'skip', { reason }, T().skippedToast);
const snooze = (id, until) => act(id, 'snooze', { until: until.toISOString() }, (task) => T().snoozedToast(when(task.snoozedUntil)));

async function bulkComplete() {
  const taskIds = [...inbox.selected];
  if (!taskIds.length) return;
  const outcome = $('bulk-outcome').value;
  try {
    const result = await api('POST', '/api/inbox/tasks/complete', { taskIds, outcome });
    const done = new Set(result.done.map((x) => x.id));
    inbox.items = inbox.items.filter((x) => !done.has(x.id));
    inbox.selected = new Set(result.refused.map((r) => r.taskId));
    inbox.active = Math.min(inbox.active, inbox.items.length - 1);
    if (inbox.detail && done.has(inbox.detail.id)) inbox.detail = null;
    const refused = result.refused.map((r) => r.problem).join(' ');
    toast(result.refused.length ? `${T().bulkDone(done.size)} · ${T().bulkRefused(result.refused.length)} ${refused}` : T().bulkDone(done.size),
      result.refused.length ? 'error' : 'ok');
  } catch (err) {
    toast(T().failed(err.message), 'error');
  }
  refreshCounts();
  renderInbox();
}

// ---------------------------------------------------------------- inbox: rendering

function renderInbox() {
  const t = T();
  $('inbox-title').textContent = me?.role === 'manager' && !inbox.filters.executorId ? t.teamInboxTitle : t.inboxTitle;
  renderTabs();
  renderCounts();
  renderFilters();
  renderList();
  renderDetail();
}

function renderTabs() {
  for (const tab of document.querySelectorAll('[role=tab]')) {
    const on = tab.dataset.list === inbox.list;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on) $('list-panel').setAttribute('aria-labelledby', tab.id);
  }
}

function renderCounts() {
  for (const l of LISTS) {
    const n = inbox.counts[l] ?? 0;
    $(`count-${l}`).textContent = String(n);
    $(`count-${l}`).classList.toggle('zero', n === 0);
  }
}

function fillSelect(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => h('option', { value: v }, label)));
  select.value = value;
}

function renderFilters() {
  const t = T();
  const sops = [...inbox.sops].sort((a, b) => a[1].localeCompare(b[1]));
  fillSelect($('filter-sop'), [['', t.allSops], ...sops], inbox.filters.sopId);
  fillSelect($('filter-channel'), [['', t.allChannels], ...CHANNELS.map((c) => [c, t.channels[c]])], inbox.filters.channel);
  $('filter-who-label').hidden = me?.role !== 'manager';
  if (me?.role === 'manager') fillSelect($('filter-who'), [['', t.whoTeam], [me.userId, t.whoMe]], inbox.filters.executorId);
  fillSelect($('bulk-outcome'), OUTCOMES.map((o) => [o, t.outcomes[o]]), $('bulk-outcome').value || 'sent');
}

const who = (task) => task.contactName || (task.groupName ? `${T().group} · ${task.groupName}` : task.sopName);

function renderRow(task, index) {
  const t = T();
  const name = who(task);
  const pending = task.status === 'pending';
  const hint = dueHint(task);
  const active = index === inbox.active;
  const other = me?.role === 'manager' && task.executorId !== me.userId;
  return h('li', {
    id: `task-${task.id}`, class: `task ${hint.level}${active ? ' active' : ''}${inbox.detail?.id === task.id ? ' open' : ''}`,
    tabindex: '-1', 'data-id': task.id, 'aria-current': active ? 'true' : undefined,
  },
  pending ? h('input', {
    type: 'checkbox', class: 'pick', checked: inbox.selected.has(task.id), 'aria-label': t.selectFor(name),
    onchange: (e) => { e.target.checked ? inbox.selected.add(task.id) : inbox.selected.delete(task.id); renderBulk(); },
  }) : h('span', { class: `status-dot ${task.status}`, 'aria-hidden': 'true' }),
  h('button', { type: 'button', class: 'open', 'aria-controls': 'detail', onclick: () => openDetail(task.id, { focus: true }) },
    h('span', { class: 'line1' },
      h('span', { class: 'name' }, name),
      h('span', { class: 'chip' }, t.channels[task.channel] || task.channel),
      !pending ? h('span', { class: `chip ${task.status}` }, task.outcome ? t.outcomes[task.outcome] || task.outcome : t.statuses[task.status] || task.status) : null,
      other ? h('span', { class: 'chip person' }, task.executorName || t.unassigned) : null),
    h('span', { class: 'sop' }, task.sopName),
    h('span', { class: 'preview' }, task.content)),
  h('span', { class: `due ${hint.level}`, 'data-due': task.id }, hint.text),
  pending ? h('span', { class: 'quick' },
    h('button', { type: 'button', class: 'copy', 'aria-label': t.copyFor(name), onclick: () => { inbox.active = index; renderList(); copyMessage(task); } }, t.copyShort),
    h('button', { type: 'button', class: 'sent', 'aria-label': t.sentFor(name), onclick: () => complete(task.id, 'sent') }, t.sentShort)) : null);
}

function renderList() {
  const t = T();
  // the focused row (or a control in it) keeps focus across the re-render
  const focused = document.activeElement;
  const focusedRow = focused?.closest?.('#task-list > li');
  const focusedPart = focusedRow && focused !== focusedRow ? focused.className.split(' ')[0] : '';
  $('task-list').setAttribute('aria-busy', String(inbox.loading));
  $('task-list').replaceChildren(...inbox.items.map(renderRow));
  const again = focusedRow && $(focusedRow.id);
  if (again) (focusedPart && again.querySelector(`.${focusedPart}`) || again).focus();
  const empty = !inbox.loading && !inbox.items.length && !inbox.listError;
  $('empty').hidden = !empty;
  if (empty) {
    const filtered = inbox.filters.sopId || inbox.filters.channel;
    const [title, hint] = t.empty[inbox.list];
    $('empty-title').textContent = title;
    $('empty-hint').textContent = filtered ? t.empty.filtered : hint;
  }
  $('load-more').hidden = !inbox.cursor;
  $('load-more').disabled = inbox.loading;
  $('load-more').textContent = inbox.loading && inbox.items.length ? t.loading : t.loadMore;
  $('list-loading').hidden = !(inbox.loading && !inbox.items.length);
  $('list-error').hidden = !inbox.listError;
  $('list-error').textContent = inbox.listError;
  renderBulk();
}

function renderBulk() {
  const n = inbox.selected.size;
  const pending = inbox.items.filter((x) => x.status === 'pending');
  $('select-all-label').hidden = pending.length < 2;
  $('select-all').checked = pending.length > 0 && pending.every((x) => inbox.selected.has(x.id));
  $('select-all').indeterminate = n > 0 && !$('select-all').checked;
  $('bulk-bar').hidden = n === 0;
  $('bulk-count').textContent = T().bulkSelected(n);
}

function updateHints() {
  for (const el of document.querySelectorAll('[data-due]')) {
    const task = inbox.items.find((x) => x.id === el.dataset.due);
    if (!task) continue;
    const hint = dueHint(task);
    el.textContent = hint.text;
    el.className = `due ${hint.level}`;
    el.closest('li')?.classList.remove('warn', 'soon', 'calm');
    el.closest('li')?.classList.add(hint.level);
  }
  const due = document.querySelector('#detail [data-detail-due]');
  if (due && inbox.detail?.status) {
    const hint = dueHint(inbox.detail);
    due.textContent = hint.text;
    due.className = `due ${hint.level}`;
  }
}

function section(title, ...children) {
  const id = `sec-${title.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  return h('section', { class: 'panel-section', 'aria-labelledby': id }, h('h3', { id }, title), ...children);
}

function renderDetail() {
  const el = $('detail');
  const task = inbox.detail;
  el.hidden = !task;
  document.body.classList.toggle('detail-open', Boolean(task));
  if (!task) return el.replaceChildren();
  const t = T();
  // typing survives a re-render (a language switch, a refresh)
  const kept = { note: el.querySelector('#note')?.value, reason: el.querySelector('#skip-reason')?.value, custom: el.querySelector('#snooze-at')?.value,
    outcome: el.querySelector('input[name=outcome]:checked')?.value };
  const title = task.contactName || task.groupName || (task.loading ? t.loading : '');
  const head = h('div', { class: 'panel-head' },
    h('div', {},
      h('h2', { id: 'detail-title', tabindex: '-1' }, title),
      task.sopName ? h('p', { class: 'muted sub' }, `${task.sopName} · ${t.channels[task.channel] || task.channel}`) : null),
    h('button', { type: 'button', class: 'close', id: 'detail-close', 'aria-label': t.close, onclick: closeDetail }, '×'));
  const error = h('p', { id: 'detail-error', class: 'error', role: 'alert', hidden: !inbox.detailError }, inbox.detailError);
  if (task.missing || !task.status) return el.replaceChildren(head, error);

  const hint = dueHint(task);
  const pending = task.status === 'pending';
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, t.window), h('dd', {}, windowText(task)),
    h('dt', {}, t.status),
    h('dd', {}, h('span', { class: `due ${hint.level}`, 'data-detail-due': '' }, pending ? hint.text : [task.outcome ? t.outcomes[task.outcome] : t.statuses[task.status], hint.text].filter(Boolean).join(' · '))),
    task.executorId !== me?.userId ? [h('dt', {}, t.assignee), h('dd', {}, task.executorName || t.unassigned)] : null);

  const message = section(t.message,
    h('pre', { class: 'content', id: 'detail-content' }, task.content),
    h('button', { type: 'button', class: 'primary', id: 'copy-content', onclick: () => copyMessage(task) }, t.copy));

  const materials = task.materials?.length ? section(t.materials,
    h('ul', { class: 'materials' }, task.materials.map((m, i) => {
      const link = m.trackedPath ? new URL(m.trackedPath, location.origin).href : m.url;
      return h('li', {},
        h('div', { class: 'material-title' }, m.title || m.url),
        h('code', { class: 'link', id: `material-link-${i}` }, link),
        h('button', { type: 'button', class: 'copy-link', 'aria-label': `${t.copyLink}: ${m.title || ''}`,
          onclick: async () => { const ok = await copyText(link); toast(ok ? t.linkCopied : t.copyFailed, ok ? 'ok' : 'error'); } }, t.copyLink));
    })),
    h('p', { class: 'muted small' }, t.trackedHint)) : null;

  const responses = Array.isArray(task.lastResponses) ? [
    h('h4', {}, t.responses),
    task.lastResponses.length ? h('ul', { class: 'responses' }, task.lastResponses.map((r) => h('li', {},
      [t.responseKinds[r.kind] || r.kind, r.outcome ? t.outcomes[r.outcome] || r.outcome : null, r.material, r.name].filter(Boolean).join(' · '),
      h('span', { class: 'muted' }, ` ${when(r.at)}`)))) : h('p', { class: 'muted' }, t.noResponses),
  ] : null;
  const customer = task.contactId ? section(t.customer,
    h('h4', {}, t.tags),
    task.contactTags?.length ? h('ul', { class: 'tags', 'aria-label': t.tags }, task.contactTags.map((name) => h('li', { class: 'chip tag' }, name)))
      : h('p', { class: 'muted' }, t.noTags),
    responses) : null;

  const actions = pending ? [
    section(t.completeTitle, h('form', { id: 'complete-form', onsubmit: (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      complete(task.id, f.get('outcome'), String(f.get('note') || '').trim());
    } },
    h('fieldset', { class: 'outcomes' }, h('legend', {}, t.outcome),
      OUTCOMES.map((o) => h('label', { class: 'outcome' },
        h('input', { type: 'radio', name: 'outcome', value: o, checked: (kept.outcome || 'sent') === o }), h('span', {}, t.outcomes[o])))),
    h('label', {}, h('span', {}, t.note), h('textarea', { id: 'note', name: 'note', rows: '2', maxlength: '2000', placeholder: t.notePlaceholder }, kept.note || '')),
    h('button', { type: 'submit', class: 'primary', id: 'complete-btn' }, t.completeBtn))),
    section(t.snoozeTitle, h('div', { class: 'snooze' },
      h('button', { type: 'button', id: 'snooze-1h', onclick: () => snooze(task.id, new Date(Date.now() + 3600000)) }, t.snooze1h),
      h('button', { type: 'button', id: 'snooze-tomorrow', onclick: () => {
        const d = new Date();
        snooze(task.id, new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, 9, 0, 0));
      } }, t.snoozeTomorrow)),
    h('form', { id: 'snooze-form', class: 'inline-form', onsubmit: (e) => {
      e.preventDefault();
      const value = e.target.elements.at.value;
      if (!value) { inbox.detailError = t.pickTime; return renderDetail(); }
      snooze(task.id, new Date(value));
    } },
    h('label', {}, h('span', {}, t.snoozeCustom), h('input', { type: 'datetime-local', id: 'snooze-at', name: 'at', value: kept.custom || '' })),
    h('button', { type: 'submit', id: 'snooze-custom' }, t.snoozeBtn))),
    section(t.skipTitle, h('form', { id: 'skip-form', class: 'inline-form', onsubmit: (e) => {
      e.preventDefault();
      skip(task.id, e.target.elements.reason.value.trim());
    } },
    h('label', {}, h('span', {}, t.reason), h('input', { type: 'text', id: 'skip-reason', name: 'reason', maxlength: '500', required: true, placeholder: t.reasonPlaceholder, value: kept.reason || '' })),
    h('button', { type: 'submit', id: 'skip-btn' }, t.skipBtn))),
  ] : null;

  const historySection = section(t.history, task.history?.length
    ? h('ol', { class: 'history' }, task.history.map((e) => h('li', {},
      h('time', { datetime: e.at }, when(e.at)), ' ', h('strong', {}, t.actions[e.action] || e.action), historyDetail(e))))
    : h('p', { class: 'muted' }, t.noHistory));

  el.replaceChildren(head, facts, error, message, materials || '', customer || '', ...(actions || []), historySection);
}

function historyDetail(e) {
  const t = T();
  const d = e.detail || {};
  if (e.action === 'completed') return ` · ${t.outcomes[d.outcome] || d.outcome}${d.note ? ` · ${d.note}` : ''}`;
  if (e.action === 'skipped') return ` · ${d.reason}`;
  if (e.action === 'snoozed') return ` · ${when(d.until)}`;
  return '';
}

// ---------------------------------------------------------------- notifications: the bell

const bell = { available: false, unread: 0, items: [], loaded: false, open: false, source: null, retry: null, streams: 0, error: '' };

/** Shows the bell when the notifications API answers; live updates come by server-sent events. */
async function startBell() {
  stopBell();
  if (!me?.userId) return;
  try {
    bell.unread = (await api('GET', '/api/notifications/unread-count')).unread;
    bell.available = true;
  } catch {
    bell.available = false; // a server without notifications: no bell
  }
  renderBell();
  if (bell.available) connectStream();
}

function stopBell() {
  bell.source?.close();
  clearTimeout(bell.retry);
  Object.assign(bell, { available: false, unread: 0, items: [], loaded: false, open: false, source: null, retry: null, streams: 0, error: '' });
  renderBell();
}

/** EventSource cannot send the Authorization header: a one-minute ticket opens the stream instead. */
async function connectStream() {
  const user = me?.userId;
  try {
    const { streamPath } = await api('POST', '/api/notifications/stream-tickets');
    if (me?.userId !== user || !bell.available) return;
    const source = new EventSource(streamPath);
    bell.source = source;
    source.addEventListener('ready', () => {
      // after a reconnect, whatever came meanwhile is read again
      if (bell.streams++ > 0) refreshBell();
      document.body.dataset.notificationStream = 'open';
    });
    source.addEventListener('notification', (e) => onNotification(JSON.parse(e.data)));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      source.close();
      document.body.dataset.notificationStream = 'closed';
      bell.retry = setTimeout(connectStream, 5000); // a ticket expired or the server restarted: a new ticket
    };
  } catch {
    bell.retry = setTimeout(connectStream, 15000);
  }
}

function onNotification(n) {
  if (bell.items.some((x) => x.id === n.id)) return;
  bell.items.unshift(n);
  if (!n.readAt) bell.unread += 1;
  renderBell();
  toast(n.title);
  refreshCounts({ reload: true }); // a reminder often means the lists moved
}

async function refreshBell() {
  try {
    bell.unread = (await api('GET', '/api/notifications/unread-count')).unread;
    if (bell.open || bell.loaded) {
      bell.items = (await api('GET', '/api/notifications?limit=20')).items;
      bell.loaded = true;
    }
    bell.error = '';
  } catch (err) {
    bell.error = T().failed(err.message);
  }
  renderBell();
}

function toggleBell(open = !bell.open) {
  bell.open = open;
  renderBell();
  if (open) {
    refreshBell().then(() => (bell.items.length ? document.querySelector('#bell-list .n-open') : $('bell-read-all'))?.focus());
  }
}

async function markRead(n) {
  if (n.readAt) return;
  try {
    Object.assign(n, await api('POST', `/api/notifications/${n.id}/read`));
    bell.unread = Math.max(0, bell.unread - 1);
    bell.error = '';
  } catch (err) {
    bell.error = T().failed(err.message);
  }
  renderBell();
}

async function markAllRead() {
  try {
    await api('POST', '/api/notifications/read-all');
    const now = new Date().toISOString();
    for (const n of bell.items) n.readAt ??= now;
    bell.unread = 0;
    bell.error = '';
  } catch (err) {
    bell.error = T().failed(err.message);
  }
  renderBell();
}

async function openNotification(n) {
  await markRead(n);
  toggleBell(false);
  if (n.taskId && !$('inbox').hidden) openDetail(n.taskId, { focus: true });
  else if (n.link?.startsWith('/')) location.href = n.link;
}

function renderBell() {
  const t = T();
  $('bell-wrap').hidden = !bell.available || !me;
  $('bell-count').hidden = !bell.unread;
  $('bell-count').textContent = bell.unread > 99 ? '99+' : String(bell.unread);
  $('bell').setAttribute('aria-label', t.bellLabel(bell.unread));
  $('bell').setAttribute('aria-expanded', String(bell.open));
  $('bell-menu').hidden = !bell.open;
  $('bell-read-all').disabled = !bell.unread;
  $('bell-empty').hidden = !bell.loaded || bell.items.length > 0;
  $('bell-error').hidden = !bell.error;
  $('bell-error').textContent = bell.error;
  $('bell-list').replaceChildren(...bell.items.map((n) => h('li', { class: `notification${n.readAt ? '' : ' unread'}`, 'data-id': n.id },
    h('button', { type: 'button', class: 'n-open', onclick: () => openNotification(n) },
      h('span', { class: 'n-title' }, n.readAt ? null : h('span', { class: 'sr-only' }, `${t.unread}: `), n.title),
      h('span', { class: 'n-body' }, n.body),
      h('time', { datetime: n.createdAt, class: 'muted' }, when(n.createdAt))),
    n.readAt ? null : h('button', { type: 'button', class: 'n-read', 'aria-label': `${t.markRead}: ${n.title}`, onclick: () => markRead(n) }, t.markRead))));
}

$('bell').addEventListener('click', () => toggleBell());
$('bell-read-all').addEventListener('click', markAllRead);
$('bell-wrap').addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && bell.open) { e.preventDefault(); toggleBell(false); $('bell').focus(); }
});
document.addEventListener('click', (e) => { if (bell.open && !e.target.closest?.('#bell-wrap')) toggleBell(false); });

// ---------------------------------------------------------------- inbox: events

for (const tab of document.querySelectorAll('[role=tab]')) {
  tab.addEventListener('click', () => selectList(tab.dataset.list));
  tab.addEventListener('keydown', (e) => {
    const i = LISTS.indexOf(inbox.list);
    const next = e.key === 'ArrowRight' ? (i + 1) % 4 : e.key === 'ArrowLeft' ? (i + 3) % 4 : e.key === 'Home' ? 0 : e.key === 'End' ? 3 : -1;
    if (next < 0) return;
    e.preventDefault();
    selectList(LISTS[next]);
    $(`tab-${LISTS[next]}`).focus();
  });
}

function selectList(list) {
  if (inbox.list === list) return loadList();
  inbox.list = list;
  renderTabs();
  loadList();
  refreshCounts();
}

$('filter-sop').addEventListener('change', (e) => { inbox.filters.sopId = e.target.value; loadList(); });
$('filter-channel').addEventListener('change', (e) => { inbox.filters.channel = e.target.value; loadList(); });
$('filter-who').addEventListener('change', (e) => { inbox.filters.executorId = e.target.value; renderInbox(); loadList(); refreshCounts(); });
$('load-more').addEventListener('click', () => loadList({ more: true }));
$('bulk-complete').addEventListener('click', bulkComplete);
$('select-all').addEventListener('change', (e) => {
  for (const task of inbox.items) if (task.status === 'pending') e.target.checked ? inbox.selected.add(task.id) : inbox.selected.delete(task.id);
  renderList();
});
$('bulk-clear').addEventListener('click', () => { inbox.selected.clear(); renderList(); });
window.addEventListener('hashchange', () => {
  const id = location.hash.match(/^#\/inbox\/tasks\/(\d+)$/)?.[1];
  if (id && me && !$('inbox').hidden && inbox.detail?.id !== id) openDetail(id, { focus: true });
});
window.addEventListener('focus', () => { if (me && !$('inbox').hidden) refreshCounts({ reload: true }); });

function move(by) {
  if (!inbox.items.length) return;
  inbox.active = Math.max(0, Math.min(inbox.items.length - 1, (inbox.active < 0 ? -by : inbox.active) + by));
  const task = inbox.items[inbox.active];
  renderList();
  $(`task-${task.id}`)?.focus();
  $(`task-${task.id}`)?.scrollIntoView({ block: 'nearest' });
  if (inbox.detail) openDetail(task.id);
}

document.addEventListener('keydown', (e) => {
  if ($('inbox').hidden || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  const typing = target.closest?.('input, textarea, select, [contenteditable], #bell-wrap');
  if (e.key === 'Escape' && inbox.detail) { e.preventDefault(); return closeDetail(); }
  if (typing) return;
  // c and Enter act on the task in the panel when one is open (it may have come from a notification), else on the row
  const task = inbox.detail?.status ? inbox.detail : inbox.items[inbox.active];
  if (e.key === 'j') { e.preventDefault(); move(1); }
  else if (e.key === 'k') { e.preventDefault(); move(-1); }
  else if (e.key === 'c' && task) { e.preventDefault(); copyMessage(task); }
  else if (e.key === 'x' && inbox.items[inbox.active]?.status === 'pending') {
    e.preventDefault();
    const row = inbox.items[inbox.active];
    inbox.selected.has(row.id) ? inbox.selected.delete(row.id) : inbox.selected.add(row.id);
    renderList();
    $(`task-${row.id}`)?.focus();
  } else if (e.key === 'Enter' && task?.status === 'pending' && !target.closest?.('button, a, summary')) {
    e.preventDefault();
    complete(task.id, 'sent').then(() => { const next = inbox.items[inbox.active]; if (next) $(`task-${next.id}`)?.focus(); });
  }
});

loadMe();
