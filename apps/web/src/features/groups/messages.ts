import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '客户群', add: '新建客户群', edit: '编辑客户群', name: '群名称', owner: '群主', members: '成员', created: '创建时间', noOwner: '未设置',
    nameRequired: '请输入群名称', saved: '已保存', deleteConfirm: '删除客户群“{{name}}”？成员客户不会被删除。',
    empty: '还没有客户群。群 SOP（如每天的早报）面向这里的群运行。', membersTitle: '{{name}} 的成员', addMember: '加入客户', searchContact: '搜索客户姓名、手机号或外部 ID',
    remove: '移出', count: '共 {{n}} 位成员', first: '（显示前 {{n}} 位）',
  },
  en: {
    title: 'Customer groups', add: 'New group', edit: 'Edit group', name: 'Group name', owner: 'Owner', members: 'Members', created: 'Created', noOwner: 'None',
    nameRequired: 'Enter a name', saved: 'Saved', deleteConfirm: 'Delete the group “{{name}}”? Its customers are kept.',
    empty: 'No customer groups yet. Group SOPs (e.g. the morning report) run for the groups here.', membersTitle: 'Members of {{name}}', addMember: 'Add customer', searchContact: 'Search name, phone or external id',
    remove: 'Remove', count: '{{n}} members', first: '(first {{n}} shown)',
  },
};
