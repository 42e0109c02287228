import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '标签体系', addGroup: '新建标签组', editGroup: '编辑标签组', addTag: '添加标签', editTag: '编辑标签',
    groupName: '标签组名称', exclusive: '互斥', exclusiveHelp: '互斥的标签组里，一位客户同时只能有一个标签（如生命周期、购买意向）；打上新标签会替换旧的。',
    tagName: '标签名称', kind: '类型', color: '颜色', weight: '权重', weightHelp: '0–100，表示兴趣或意向的强弱；分群可以按权重筛选。',
    kinds: { manual: '手动', source: '来源', behaviour: '行为', computed: '计算' },
    deleteGroup: '删除标签组“{{name}}”？组内的标签会一起删除；与企业微信关联的标签组也会在企业微信中删除。', deleteTag: '删除标签“{{name}}”？客户身上的这个标签会被移除；与企业微信关联的标签也会在企业微信中删除。',
    saved: '已保存', deleted: '已删除', nameRequired: '请输入名称', tagsCount_one: '{{count}} 个标签', tagsCount_other: '{{count}} 个标签',
    empty: '还没有标签。先建标签组（如“购买意向”“来源渠道”），再在组里添加标签。', noTags: '这个组还没有标签',
  },
  en: {
    title: 'Tags', addGroup: 'New tag group', editGroup: 'Edit tag group', addTag: 'Add tag', editTag: 'Edit tag',
    groupName: 'Group name', exclusive: 'Exclusive', exclusiveHelp: 'In an exclusive group a customer holds at most one tag (e.g. lifecycle stage, purchase intent); a new one replaces the old.',
    tagName: 'Tag name', kind: 'Kind', color: 'Colour', weight: 'Weight', weightHelp: '0–100: how strong an interest or intent is; segments can filter by it.',
    kinds: { manual: 'Manual', source: 'Source', behaviour: 'Behaviour', computed: 'Computed' },
    deleteGroup: 'Delete the tag group “{{name}}” and its tags? One linked to WeCom is deleted in WeCom too.', deleteTag: 'Delete the tag “{{name}}”? Customers lose it; a tag linked to WeCom is deleted in WeCom too.',
    saved: 'Saved', deleted: 'Deleted', nameRequired: 'Enter a name', tagsCount_one: '{{count}} tag', tagsCount_other: '{{count}} tags',
    empty: 'No tags yet. Create a group first (e.g. "Purchase intent", "Source channel"), then add tags to it.', noTags: 'No tags in this group yet',
  },
};
