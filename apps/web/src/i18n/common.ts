import type { Messages } from './index';

/** Texts every page shares: the shell, navigation, roles, actions and generic states. */
export const common: Messages = {
  zh: {
    appName: 'SOP 触达引擎',
    tagline: '为运营、员工和主管设计的私域 SOP 触达平台',
    language: '语言',
    labelled: '{{label}}：{{value}}',
    nav: {
      inbox: '我的任务', team: '团队任务', dashboard: '团队看板', sops: 'SOP 管理', materials: '素材库', customers: '客户', contacts: '客户列表', segments: '客户分群', tags: '标签体系',
      imports: '导入客户', channelCodes: '渠道活码', computedTags: '计算标签', responseRules: '响应规则', groups: '客户群',
      admin: '组织管理', users: '成员', teams: '团队', apiKeys: 'API 密钥', settings: '组织设置', calendar: '工作日历', wecom: '企业微信',
      apiDocs: 'API 文档', menu: '菜单',
    },
    roles: { admin: '管理员', ops: '运营', manager: '主管', employee: '员工' },
    auth: {
      welcome: '欢迎回来', email: '邮箱', password: '密码', signIn: '登录', signOut: '退出登录',
      emailRequired: '请输入邮箱', passwordRequired: '请输入密码', signedInAs: '当前登录：{{name}}',
    },
    actions: {
      save: '保存', cancel: '取消', delete: '删除', edit: '编辑', create: '新建', add: '添加', search: '搜索', reset: '重置',
      confirm: '确认', close: '关闭', loadMore: '加载更多', export: '导出', download: '下载', copy: '复制', copied: '已复制',
      refresh: '刷新', back: '返回', more: '更多', apply: '应用', retry: '重试',
    },
    state: {
      loading: '加载中…', empty: '暂无数据', saved: '已保存', deleted: '已删除', created: '已创建', failed: '操作失败',
      forbidden: '你没有权限查看此页面。', notFound: '页面不存在。', offline: '无法连接服务器，请检查网络后重试。',
    },
    error: { requestId: '请求编号：{{id}}', unknown: '出了点问题（{{code}}）：{{message}}' },
    inUse: {
      refused: '不能删除：{{what}}正在使用它', user: '{{kind}}「{{name}}」', userNamed: '「{{name}}」',
      kinds: { segment: '分群', sourceCode: '渠道码', computedTag: '计算标签规则', sop: 'SOP', responseRule: '响应规则', material: '素材' },
    },
    problems: {
      string: '必须是文本', empty: '不能为空', maxLength: '最多 {{n}} 个字符', minLength: '至少 {{n}} 个字符', uuid: '必须是有效的 ID',
      eachUuid: '每一项都必须是有效的 ID', email: '必须是有效的邮箱地址', oneOf: '只能是以下之一：{{values}}', integer: '必须是整数',
      min: '不能小于 {{n}}', max: '不能大于 {{n}}', number: '必须是数字', amount: '必须是最多两位小数的数字', date: '必须是有效的日期时间',
      dateRange: '日期必须在 1900-01-01 到 2200-01-01 之间', boolean: '必须是“是”或“否”', array: '必须是列表', arrayMax: '最多 {{n}} 项',
      arrayMin: '至少 {{n}} 项', object: '必须是对象', unknownField: '不支持的字段 {{field}}', spaces: '开头和结尾不能有空格',
      timeZone: '必须是 IANA 时区，例如 Asia/Shanghai', nul: '不能包含 NUL 字符', surrogate: '包含无效的 Unicode 字符',
      pattern: '格式不正确', wecomRefused: '企业微信拒绝了它（错误码 {{code}}：{{message}}）',
    },
    wecomFailures: {
      unreachable: '无法连接企业微信（{{path}}）', badAnswer: '企业微信返回了异常应答（HTTP {{status}}，{{path}}）',
      refused: '企业微信拒绝了请求（{{path}}，错误码 {{code}}：{{message}}）', madeWhileDisconnecting: '在断开企业微信的同时创建，未在企业微信中删除',
      notConnected: '本组织未连接企业微信', secretsUnreadable: '企业微信密钥无法解密（加密密钥已更换），请管理员重新填写',
    },
    confirmDelete: '确定删除“{{name}}”吗？',
    yes: '是', no: '否', all: '全部', none: '无', total: '共 {{count}} 条', today: '今天', tomorrow: '明天',
  },
  en: {
    appName: 'SOP Engine',
    tagline: 'Private-domain SOP outreach for ops, employees and managers',
    language: 'Language',
    labelled: '{{label}}: {{value}}',
    nav: {
      inbox: 'My tasks', team: 'Team tasks', dashboard: 'Dashboard', sops: 'SOPs', materials: 'Materials', customers: 'Customers', contacts: 'Contacts', segments: 'Segments', tags: 'Tags',
      imports: 'Import', channelCodes: 'Channel codes', computedTags: 'Computed tags', responseRules: 'Response rules', groups: 'Customer groups',
      admin: 'Organization', users: 'Users', teams: 'Teams', apiKeys: 'API keys', settings: 'Settings', calendar: 'Business calendar', wecom: 'WeCom',
      apiDocs: 'API docs', menu: 'Menu',
    },
    roles: { admin: 'Admin', ops: 'Operations', manager: 'Manager', employee: 'Employee' },
    auth: {
      welcome: 'Welcome back', email: 'Email', password: 'Password', signIn: 'Sign in', signOut: 'Sign out',
      emailRequired: 'Enter your email', passwordRequired: 'Enter your password', signedInAs: 'Signed in as {{name}}',
    },
    actions: {
      save: 'Save', cancel: 'Cancel', delete: 'Delete', edit: 'Edit', create: 'Create', add: 'Add', search: 'Search', reset: 'Reset',
      confirm: 'Confirm', close: 'Close', loadMore: 'Load more', export: 'Export', download: 'Download', copy: 'Copy', copied: 'Copied',
      refresh: 'Refresh', back: 'Back', more: 'More', apply: 'Apply', retry: 'Retry',
    },
    state: {
      loading: 'Loading…', empty: 'Nothing here yet', saved: 'Saved', deleted: 'Deleted', created: 'Created', failed: 'Something failed',
      forbidden: 'You do not have access to this page.', notFound: 'This page does not exist.', offline: 'Cannot reach the server: check the network and retry.',
    },
    error: { requestId: 'Request id: {{id}}', unknown: 'Something went wrong ({{code}}): {{message}}' },
    inUse: {
      refused: 'Cannot delete: used by {{what}}', user: '{{kind}} "{{name}}"', userNamed: '"{{name}}"',
      kinds: { segment: 'segment', sourceCode: 'channel code', computedTag: 'computed tag rule', sop: 'SOP', responseRule: 'response rule', material: 'material' },
    },
    problems: {
      string: 'must be text', empty: 'must not be empty', maxLength: 'at most {{n}} characters', minLength: 'at least {{n}} characters', uuid: 'must be a valid id',
      eachUuid: 'each item must be a valid id', email: 'must be a valid email address', oneOf: 'must be one of: {{values}}', integer: 'must be a whole number',
      min: 'must not be less than {{n}}', max: 'must not be greater than {{n}}', number: 'must be a number', amount: 'must be a number with at most 2 decimal places', date: 'must be a valid date and time',
      dateRange: 'must be between 1900-01-01 and 2200-01-01', boolean: 'must be yes or no', array: 'must be a list', arrayMax: 'at most {{n}} items',
      arrayMin: 'at least {{n}} items', object: 'must be an object', unknownField: 'the field {{field}} is not supported', spaces: 'must not start or end with spaces',
      timeZone: 'must be an IANA time zone such as Asia/Shanghai', nul: 'must not contain the NUL character', surrogate: 'holds invalid Unicode text',
      pattern: 'is not in the expected format', wecomRefused: 'WeCom refused it (errcode {{code}}: {{message}})',
    },
    wecomFailures: {
      unreachable: 'WeCom could not be reached ({{path}})', badAnswer: 'WeCom gave an unexpected answer (HTTP {{status}}, {{path}})',
      refused: 'WeCom refused the request ({{path}}, errcode {{code}}: {{message}})', madeWhileDisconnecting: 'Made while WeCom was being disconnected: not deleted in WeCom',
      notConnected: 'The organization has no WeCom connection', secretsUnreadable: 'The WeCom secrets cannot be opened (the sealing key changed): an admin must enter them again',
    },
    confirmDelete: 'Delete “{{name}}”?',
    yes: 'Yes', no: 'No', all: 'All', none: 'None', total: '{{count}} in all', today: 'today', tomorrow: 'tomorrow',
  },
};
