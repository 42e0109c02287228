import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '企业微信',
    intro: '连接本企业的企业微信后，客户、标签和客户群将与企业微信保持同步（同步功能陆续上线）。所有信息在企业微信管理后台获取；密钥加密保存，保存后只显示末 4 位。',
    form: {
      title: '连接信息', corpId: '企业 ID（CorpID）', corpIdHelp: '管理后台 → 我的企业 → 企业信息', agentId: '自建应用 AgentId',
      agentIdHelp: '用于给员工发送任务提醒的自建应用', contactSecret: '客户联系 Secret', agentSecret: '自建应用 Secret',
      callbackToken: '回调 Token', encodingAesKey: '回调 EncodingAESKey', keep: '已保存（末 4 位 {{last4}}），留空则不修改',
      required: '请填写{{field}}', save: '校验并保存', saving: '正在向企业微信校验…', saved: '已连接企业微信',
    },
    status: {
      title: '连接状态', callbackUrl: '回调地址', callbackHelp: '把此地址填入自建应用和“客户联系”的接收事件服务器配置。',
      copy: '复制回调地址', lastCallback: '最近一次回调', never: '尚未收到', events: '近 24 小时事件', lastError: '最近错误',
      waiting: '待处理事件', lastProcessed: '最近处理', notProcessed: '尚未处理', lastEventError: '最近事件错误',
      connectedAt: '连接于', notConnected: '尚未连接企业微信。填写下面的信息后保存，系统会先向企业微信校验。',
    },
    disconnect: '断开连接', disconnectConfirm: '断开企业微信？', disconnectText: '保存的密钥将被删除，回调地址立即失效。已收到的事件记录会保留。',
    disconnected: '已断开企业微信',
  },
  en: {
    title: 'WeCom',
    intro: 'Connect your WeCom corporation so customers, tags and customer groups stay in sync with WeCom (sync is rolling out). Every value comes from the WeCom admin console; secrets are stored encrypted and only their last 4 characters are shown once saved.',
    form: {
      title: 'Connection details', corpId: 'Corporation ID (CorpID)', corpIdHelp: 'Admin console → My Company → Company Info', agentId: 'Self-built app AgentId',
      agentIdHelp: 'The self-built app that sends employees their task reminders', contactSecret: 'Customer contact secret', agentSecret: 'Self-built app secret',
      callbackToken: 'Callback Token', encodingAesKey: 'Callback EncodingAESKey', keep: 'Saved (ends in {{last4}}); leave empty to keep it',
      required: 'Enter the {{field}}', save: 'Check and save', saving: 'Checking with WeCom…', saved: 'WeCom connected',
    },
    status: {
      title: 'Status', callbackUrl: 'Callback URL', callbackHelp: 'Paste this address into the event server settings of the self-built app and of Customer Contact.',
      copy: 'Copy the callback URL', lastCallback: 'Last callback', never: 'None yet', events: 'Events in the last 24 hours', lastError: 'Last error',
      waiting: 'Events waiting', lastProcessed: 'Last applied', notProcessed: 'None yet', lastEventError: 'Last event error',
      connectedAt: 'Connected', notConnected: 'WeCom is not connected yet. Fill in the details below and save: they are checked with WeCom first.',
    },
    disconnect: 'Disconnect', disconnectConfirm: 'Disconnect WeCom?', disconnectText: 'The saved secrets are deleted and the callback URL stops working at once. Events already received are kept.',
    disconnected: 'WeCom disconnected',
  },
};
