import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '客户列表', search: '搜索姓名、手机号或外部 ID', tags: '标签', owner: '负责人', anyOwner: '全部负责人', anyTag: '按标签筛选',
    columns: { name: '姓名', externalId: '外部 ID', phone: '手机号', tags: '标签', owner: '负责人', lastContacted: '上次联系', lastResponded: '上次响应', spend: '累计消费', orders: '订单' },
    empty: '没有符合条件的客户。可以导入客户、或换个搜索条件。',
    bulk: {
      selected: '已选 {{n}} 位客户', add: '打标签', remove: '去标签', apply: '应用', segment: '或对整个分群', pickSegment: '选择分群',
      applySegment: '应用到分群', done: '已处理 {{contacts}} 位客户：新增 {{added}} 个标签，移除 {{removed}} 个', pickTags: '选择要打或去掉的标签',
    },
    detail: {
      back: '返回客户列表', profile: '客户信息', externalId: '外部 ID', phone: '手机号', email: '邮箱', owner: '负责人', timezone: '时区',
      tags: '标签', editTags: '编辑标签', attributes: '属性', noAttributes: '没有自定义属性', metrics: '消费与活跃',
      orders: '订单数', spend: '累计消费', spend30d: '近 30 天消费', lastOrder: '上次下单', lastContacted: '上次联系', lastResponded: '上次响应',
      timeline: '时间线', noTimeline: '还没有任何记录', saved: '标签已更新', unassigned: '未分配',
      events: {
        'tag.added': '打上标签', 'tag.removed': '移除标签', 'response.replied': '回复了', 'response.opened': '打开了素材', 'response.bought': '购买了',
        'response.outcome': '员工记录结果', 'response.joined': '加入', 'response.joined_group': '加入了群', 'response.left_group': '退出了群',
        'response.unsubscribed': '退订了', 'response.custom': '事件',
      },
      reasons: {
        created: '创建时设置', csvImport: 'CSV 导入', import: '导入', computed: '计算标签规则', wecomTags: '企业微信企业标签',
        wecomSync: '企业微信同步', deletedMember: '删除了企业微信成员 {{member}}', opened: '打开了「{{title}}」',
        joinedVia: '通过渠道码 {{code}} 加入', finishedSop: '完成了 SOP「{{name}}」', responseRule: '响应规则「{{name}}」',
      },
      by: { user: '由员工', api_key: '由 API', rule: '由规则', import: '由导入', response: '由客户响应', computed: '由计算规则', source_code: '由渠道码', handover: '由交接', system: '由系统' },
    },
  },
  en: {
    title: 'Contacts', search: 'Search name, phone or external id', tags: 'Tags', owner: 'Owner', anyOwner: 'Any owner', anyTag: 'Filter by tags',
    columns: { name: 'Name', externalId: 'External id', phone: 'Phone', tags: 'Tags', owner: 'Owner', lastContacted: 'Last contacted', lastResponded: 'Last responded', spend: 'Total spend', orders: 'Orders' },
    empty: 'No contacts match. Import some, or change the search.',
    bulk: {
      selected: '{{n}} contacts selected', add: 'Add tags', remove: 'Remove tags', apply: 'Apply', segment: 'or to a whole segment', pickSegment: 'Pick a segment',
      applySegment: 'Apply to segment', done: '{{contacts}} contacts: {{added}} tags added, {{removed}} removed', pickTags: 'Tags to add or remove',
    },
    detail: {
      back: 'Back to contacts', profile: 'Profile', externalId: 'External id', phone: 'Phone', email: 'Email', owner: 'Owner', timezone: 'Time zone',
      tags: 'Tags', editTags: 'Edit tags', attributes: 'Attributes', noAttributes: 'No custom attributes', metrics: 'Spend and activity',
      orders: 'Orders', spend: 'Total spend', spend30d: 'Spend (30 days)', lastOrder: 'Last order', lastContacted: 'Last contacted', lastResponded: 'Last responded',
      timeline: 'Timeline', noTimeline: 'Nothing has happened yet', saved: 'Tags updated', unassigned: 'Unassigned',
      events: {
        'tag.added': 'Tag added', 'tag.removed': 'Tag removed', 'response.replied': 'Replied', 'response.opened': 'Opened a material', 'response.bought': 'Bought',
        'response.outcome': 'Outcome recorded', 'response.joined': 'Joined', 'response.joined_group': 'Joined a group', 'response.left_group': 'Left a group',
        'response.unsubscribed': 'Unsubscribed', 'response.custom': 'Event',
      },
      reasons: {
        created: 'set at creation', csvImport: 'CSV import', import: 'import', computed: 'computed tag rule', wecomTags: 'WeCom corp tags',
        wecomSync: 'WeCom sync', deletedMember: 'deleted WeCom member {{member}}', opened: 'opened "{{title}}"',
        joinedVia: 'joined via {{code}}', finishedSop: 'finished SOP "{{name}}"', responseRule: 'response rule "{{name}}"',
      },
      by: { user: 'by an employee', api_key: 'by the API', rule: 'by a rule', import: 'by an import', response: 'by a response', computed: 'by a computed rule', source_code: 'by a channel code', handover: 'by a handover', system: 'by the system' },
    },
  },
};
