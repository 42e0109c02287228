import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '客户分群', newSegment: '新建分群', editTitle: '编辑分群', newTitle: '新建分群',
    columns: { name: '名称', description: '说明', updated: '更新时间', actions: '操作' },
    empty: '还没有分群。用标签、属性、消费和沉默天数圈出一群客户，SOP 就能面向他们运行。',
    deleted: '分群已删除', saved: '分群已保存',
    form: { name: '分群名称', nameRequired: '请输入分群名称', description: '说明（可选）', rule: '圈选条件' },
    group: { all: '满足全部条件', any: '满足任一条件', addPredicate: '添加条件', addGroup: '添加条件组', not: '排除', remove: '删除' },
    kinds: { tag: '有标签', tags: '有以下标签', tagWeight: '标签权重', attribute: '客户属性', metric: '消费指标', daysSince: '距上次…天数', owner: '负责人 / 团队', group: '在客户群' },
    fields: {
      tag: '选择标签', tagsMode: { any: '任一', all: '全部' }, weightAtLeast: '权重 ≥', attributeKey: '属性名，如 city', value: '值', values: '多个值用逗号分隔',
      metric: { orderCount: '订单数', totalSpend: '累计消费', spend30d: '近 30 天消费' },
      time: { lastContacted: '上次联系', lastResponded: '上次响应', lastOrder: '上次下单' },
      silence: { gte: '≥', lt: '<' }, days: '天', users: '负责人', teams: '团队', groups: '选择客户群',
    },
    ops: { eq: '等于', ne: '不等于', lt: '小于', lte: '小于等于', gt: '大于', gte: '大于等于', in: '属于', contains: '包含', exists: '存在' },
    preview: {
      title: '实时预览', count: '符合条件的客户', incomplete: '完善条件后显示人数', first: '前 {{n}} 位客户', none: '没有符合条件的客户',
      about: '约', estimate: '抽样估算，误差 ±{{margin}}', some: '其中 {{n}} 位客户',
      estimateHelp: '客户很多，精确计数较慢，预览按抽样估算人数：实际人数有 99% 的把握落在 ± 误差之内。保存后，分群成员按规则精确计算。',
      name: '姓名', externalId: '外部 ID',
    },
    members: { title: '分群成员', export: '导出 CSV', exporting: '正在导出…', loadMore: '加载更多' },
    problems: '条件有问题：',
    ruleProblems: {
      number: '必须是数字', unknownTag: '标签不存在（可能已被删除）', required: '请填写', emptyGroup: '至少需要一个条件',
      key: '属性名只能用字母、数字、_ . -，最多 64 个字符', days: '天数必须是 0 到 {{max}} 的整数', ids: '至少选择 {{min}} 项',
    },
  },
  en: {
    title: 'Segments', newSegment: 'New segment', editTitle: 'Edit segment', newTitle: 'New segment',
    columns: { name: 'Name', description: 'Description', updated: 'Updated', actions: 'Actions' },
    empty: 'No segments yet. Pick out customers by tags, attributes, spend and silence so SOPs can target them.',
    deleted: 'Segment deleted', saved: 'Segment saved',
    form: { name: 'Segment name', nameRequired: 'Enter a name', description: 'Description (optional)', rule: 'Who is in it' },
    group: { all: 'Match all of', any: 'Match any of', addPredicate: 'Add condition', addGroup: 'Add group', not: 'Exclude', remove: 'Remove' },
    kinds: { tag: 'Has tag', tags: 'Has tags', tagWeight: 'Tag weight', attribute: 'Attribute', metric: 'Spend metric', daysSince: 'Days since', owner: 'Owner / team', group: 'In customer group' },
    fields: {
      tag: 'Pick a tag', tagsMode: { any: 'any of', all: 'all of' }, weightAtLeast: 'weight ≥', attributeKey: 'attribute, e.g. city', value: 'value', values: 'values, comma separated',
      metric: { orderCount: 'Orders', totalSpend: 'Total spend', spend30d: 'Spend (30 days)' },
      time: { lastContacted: 'last contacted', lastResponded: 'last responded', lastOrder: 'last order' },
      silence: { gte: '≥', lt: '<' }, days: 'days', users: 'Owners', teams: 'Teams', groups: 'Pick customer groups',
    },
    ops: { eq: 'equals', ne: 'is not', lt: 'less than', lte: 'at most', gt: 'more than', gte: 'at least', in: 'is one of', contains: 'contains', exists: 'exists' },
    preview: {
      title: 'Live preview', count: 'Matching customers', incomplete: 'Finish the conditions to see the count', first: 'First {{n}} customers', none: 'No customer matches',
      about: 'about', estimate: 'estimated from a sample, ±{{margin}}', some: '{{n}} of them',
      estimateHelp: 'With this many customers an exact count is slow, so the preview estimates it from a sample: the true count is within ± the margin with 99% confidence. Once saved, the segment\'s members are computed exactly from its rule.',
      name: 'Name', externalId: 'External id',
    },
    members: { title: 'Members', export: 'Export CSV', exporting: 'Exporting…', loadMore: 'Load more' },
    problems: 'The rule has problems:',
    ruleProblems: {
      number: 'must be a number', unknownTag: 'no such tag (it may have been deleted)', required: 'is required', emptyGroup: 'add at least one condition',
      key: 'use letters, digits, _ . or - only, up to 64', days: 'must be a whole number of days from 0 to {{max}}', ids: 'choose at least {{min}}',
    },
  },
};
