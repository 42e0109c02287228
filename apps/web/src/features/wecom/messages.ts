import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '企业微信',
    intro: '连接本企业的企业微信后，可从企业微信同步成员、客户、企业标签和客户群。所有信息在企业微信管理后台获取；密钥加密保存，保存后只显示末 4 位。',
    form: {
      title: '连接信息', corpId: '企业 ID（CorpID）', corpIdHelp: '管理后台 → 我的企业 → 企业信息', agentId: '自建应用 AgentId',
      agentIdHelp: '用于给员工发送任务提醒的自建应用', contactSecret: '客户联系 Secret', agentSecret: '自建应用 Secret',
      callbackToken: '回调 Token', encodingAesKey: '回调 EncodingAESKey', keep: '已保存（末 4 位 {{last4}}），留空则不修改', keepHidden: '已保存，留空则不修改',
      required: '请填写{{field}}', save: '校验并保存', saving: '正在向企业微信校验…', saved: '已连接企业微信',
    },
    status: {
      title: '连接状态', callbackUrl: '回调地址', callbackHelp: '把此地址填入自建应用和“客户联系”的接收事件服务器配置。',
      copy: '复制回调地址', lastSync: '最近一次成功同步', lastCallback: '最近一次回调', never: '尚未收到', neverSynced: '尚未同步', events: '近 24 小时事件', lastError: '最近错误',
      waiting: '待处理事件', lastProcessed: '最近处理', notProcessed: '尚未处理', lastEventError: '最近事件错误',
      tagPushes: '标签同步到企业微信', tagPushesCount: '待同步 {{waiting}}，失败 {{failed}}', lastTagPushError: '最近标签同步错误',
      tagPushesGivenUp: '多次出错后放弃', tagPushesGivenUpCount_one: '{{count}} 位客户的标签连续 5 次同步出错，已停止重试，直到其标签再次变化', tagPushesGivenUpCount_other: '{{count}} 位客户的标签连续 5 次同步出错，已停止重试，直到其标签再次变化', lastGivenUp: '最近一次（{{at}}）',
      pushKind: {
        contact_tags: '客户打标签', create_tag: '创建标签', rename_tag: '重命名标签', delete_tag: '删除标签',
        create_group: '创建标签组', rename_group: '重命名标签组', delete_group: '删除标签组',
      },
      connectedAt: '连接于', notConnected: '尚未连接企业微信。填写下面的信息后保存，系统会先向企业微信校验。',
    },
    disconnect: '断开连接', disconnectConfirm: '断开企业微信？', disconnectText: '保存的密钥将被删除，回调地址立即失效。渠道码的企业微信"联系我"二维码会先在企业微信中删除（删除失败的会在渠道码上提示）。已收到的事件记录会保留。',
    disconnected: '已断开企业微信',
    sync: {
      title: '同步', start: '立即全量同步', incremental: '增量同步', running: '同步中…', started: '已开始同步',
      startedIncremental: '已开始增量同步', queued: '增量同步结束后将进行全量同步',
      help: '从企业微信读取成员、企业标签、客户（含跟进成员和标签）和客户群。同一时间只运行一次同步，中断后会从断点继续。增量同步只重新读取上次成功同步以来有变化的成员的客户和有变化的客户群（默认每 15 分钟一次）；全量同步每晚进行一次，修正其余差异。',
      none: '尚未同步', startedAt: '开始时间', kind: '类型', status: '状态', counts: '结果',
      kinds: { full: '全量', incremental: '增量' },
      statuses: { running: '进行中', succeeded: '成功', failed: '失败' },
      count: {
        members: '成员', tags: '标签', dirtyMembers: '重读成员', contactPairs: '客户-成员关系', contactsCreated: '新客户', followsGone: '解除的跟进',
        groups: '客户群', groupsDismissed: '已解散的群',
      },
    },
    members: {
      title: '企业微信成员', help: '成员按邮箱自动对应到本系统用户（不区分大小写）；企业微信未返回邮箱的成员请手动选择。手动对应不会被同步覆盖。',
      none: '同步后显示成员', member: '成员', email: '邮箱', noEmail: '企业微信未提供', user: '对应用户', pick: '选择用户',
      userOf: '{{name}} 对应的用户', left: '已离开企业', saved: '已保存对应关系', by: { email: '按邮箱', hand: '手动' },
    },
  },
  en: {
    title: 'WeCom',
    intro: 'Connect your WeCom corporation to sync its members, customers, corp tags and customer groups from WeCom. Every value comes from the WeCom admin console; secrets are stored encrypted and only their last 4 characters are shown once saved.',
    form: {
      title: 'Connection details', corpId: 'Corporation ID (CorpID)', corpIdHelp: 'Admin console → My Company → Company Info', agentId: 'Self-built app AgentId',
      agentIdHelp: 'The self-built app that sends employees their task reminders', contactSecret: 'Customer contact secret', agentSecret: 'Self-built app secret',
      callbackToken: 'Callback Token', encodingAesKey: 'Callback EncodingAESKey', keep: 'Saved (ends in {{last4}}); leave empty to keep it', keepHidden: 'Saved; leave empty to keep it',
      required: 'Enter the {{field}}', save: 'Check and save', saving: 'Checking with WeCom…', saved: 'WeCom connected',
    },
    status: {
      title: 'Status', callbackUrl: 'Callback URL', callbackHelp: 'Paste this address into the event server settings of the self-built app and of Customer Contact.',
      copy: 'Copy the callback URL', lastSync: 'Last successful sync', lastCallback: 'Last callback', never: 'None yet', neverSynced: 'Not yet', events: 'Events in the last 24 hours', lastError: 'Last error',
      waiting: 'Events waiting', lastProcessed: 'Last applied', notProcessed: 'None yet', lastEventError: 'Last event error',
      tagPushes: 'Tags sent to WeCom', tagPushesCount: '{{waiting}} waiting, {{failed}} failed', lastTagPushError: 'Last tag push error',
      tagPushesGivenUp: 'Given up', tagPushesGivenUpCount_one: '{{count}} contact whose tags failed to send 5 times in a row: not retried until their tags change again', tagPushesGivenUpCount_other: '{{count}} contacts whose tags failed to send 5 times in a row: not retried until their tags change again', lastGivenUp: 'Last ({{at}})',
      pushKind: {
        contact_tags: 'Marking a contact', create_tag: 'Creating a tag', rename_tag: 'Renaming a tag', delete_tag: 'Deleting a tag',
        create_group: 'Creating a tag group', rename_group: 'Renaming a tag group', delete_group: 'Deleting a tag group',
      },
      connectedAt: 'Connected', notConnected: 'WeCom is not connected yet. Fill in the details below and save: they are checked with WeCom first.',
    },
    disconnect: 'Disconnect', disconnectConfirm: 'Disconnect WeCom?', disconnectText: 'The saved secrets are deleted and the callback URL stops working at once. The channel codes\' WeCom "contact me" QR codes are deleted in WeCom first (any that fail are shown on their code). Events already received are kept.',
    disconnected: 'WeCom disconnected',
    sync: {
      title: 'Sync', start: 'Run a full sync', incremental: 'Incremental sync', running: 'Syncing…', started: 'Sync started',
      startedIncremental: 'Incremental sync started', queued: 'A full sync will follow the incremental sync that is running',
      help: 'Reads members, corp tags, customers (with the members who follow them and their tags) and customer groups from WeCom. One sync runs at a time; an interrupted one continues where it stopped. An incremental sync reads again only the customers of members and the groups that changed since the last successful sync (every 15 minutes by default); the nightly full sync repairs anything else.',
      none: 'Not synced yet', startedAt: 'Started', kind: 'Kind', status: 'Status', counts: 'Result',
      kinds: { full: 'Full', incremental: 'Incremental' },
      statuses: { running: 'Running', succeeded: 'Succeeded', failed: 'Failed' },
      count: {
        members: 'Members', tags: 'Tags', dirtyMembers: 'Members re-read', contactPairs: 'Customer–member links', contactsCreated: 'New customers',
        followsGone: 'Follows ended', groups: 'Groups', groupsDismissed: 'Groups dismissed',
      },
    },
    members: {
      title: 'WeCom members', help: 'Members are matched to users by email (case-insensitive); pick the user by hand for members WeCom gives no email for. A match made by hand is never changed by a sync.',
      none: 'Members appear after a sync', member: 'Member', email: 'Email', noEmail: 'Not provided by WeCom', user: 'User', pick: 'Pick a user',
      userOf: 'User for {{name}}', left: 'Left the company', saved: 'Match saved', by: { email: 'By email', hand: 'By hand' },
    },
  },
};
