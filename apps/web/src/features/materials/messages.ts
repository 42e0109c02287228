import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '素材库',
    newMaterial: '新建素材',
    editMaterial: '编辑素材',
    search: '搜索标题或摘要',
    allFolders: '全部文件夹',
    topFolder: '（根目录）',
    anyKind: '全部类型',
    empty: '素材库还是空的。添加链接、文章、图片、文件、小程序卡片或优惠券，SOP 步骤即可直接选用。',
    more: '加载更多',
    kinds: { link: '链接', article: '文章', image: '图片', file: '文件', mini_program: '小程序卡片', coupon: '优惠券' },
    columns: { title: '标题', kind: '类型', folder: '文件夹', tags: '打开后打标签', used: '使用中的 SOP', opens: '打开次数', updated: '更新时间' },
    fields: {
      kind: '类型', title: '标题', url: '链接地址', urlHint: '需 https（管理员可在设置中允许 http），不能包含用户名或密码',
      coverUrl: '封面图地址', summary: '摘要', folder: '文件夹', folderHint: '输入新名称即新建文件夹', tags: '客户打开后获得的标签',
      titleRequired: '请填写标题', urlRequired: '请填写链接地址',
    },
    detail: {
      stats: '效果', sops: '使用中的 SOP', sent: '已发送', opens: '打开次数', openedContacts: '打开的客户', usage: '使用位置',
      noUsage: '还没有 SOP 使用这个素材。', workingCopy: '编辑中的版本', version: 'v{{version}}', step: '第 {{n}} 步：{{name}}',
      outdated: '内容为旧版', edit: '编辑', delete: '删除', deleteConfirm: '从素材库删除“{{title}}”？已发布的 SOP 版本保留各自的副本。',
    },
    republish: {
      title: '要为使用它的 SOP 发布新版本吗？',
      body: '以下运行中或已暂停的 SOP 使用这个素材：{{names}}。发布新版本后，之后生成的任务将使用新内容；已进入的客户仍按原版本执行，可在 SOP 页面迁移。',
      yes: '保存并发布新版本', no: '仅保存素材',
      done_one: '已保存，{{count}} 个 SOP 发布了新版本', done_other: '已保存，{{count}} 个 SOP 发布了新版本',
      refused: '“{{name}}”未能发布新版本，请打开它修改后保存：{{why}}',
    },
    done: { saved: '已保存', created: '已添加到素材库', deleted: '已删除' },
    picker: {
      pick: '从素材库选择', paste: '粘贴链接', title: '选择素材', fromLibrary: '素材库', openLibrary: '管理素材库',
      search: '搜索素材', none: '没有匹配的素材。',
    },
  },
  en: {
    title: 'Material library',
    newMaterial: 'New material',
    editMaterial: 'Edit material',
    search: 'Search titles and summaries',
    allFolders: 'All folders',
    topFolder: '(top level)',
    anyKind: 'Any kind',
    empty: 'The library is empty. Add links, articles, images, files, mini-program cards or coupons, and SOP steps can pick them.',
    more: 'Load more',
    kinds: { link: 'Link', article: 'Article', image: 'Image', file: 'File', mini_program: 'Mini-program card', coupon: 'Coupon' },
    columns: { title: 'Title', kind: 'Kind', folder: 'Folder', tags: 'Tags on opening', used: 'SOPs using it', opens: 'Opens', updated: 'Updated' },
    fields: {
      kind: 'Kind', title: 'Title', url: 'URL', urlHint: 'https (an admin may allow http in Settings), no user name or password',
      coverUrl: 'Cover image URL', summary: 'Summary', folder: 'Folder', folderHint: 'Type a new name to make a folder', tags: 'Tags a contact gets on opening it',
      titleRequired: 'Enter a title', urlRequired: 'Enter the URL',
    },
    detail: {
      stats: 'Results', sops: 'SOPs using it', sent: 'Sent', opens: 'Opens', openedContacts: 'Contacts who opened', usage: 'Where it is used',
      noUsage: 'No SOP uses this material yet.', workingCopy: 'working copy', version: 'v{{version}}', step: 'Step {{n}}: {{name}}',
      outdated: 'older content', edit: 'Edit', delete: 'Delete', deleteConfirm: 'Remove "{{title}}" from the library? Published SOP versions keep their own copy.',
    },
    republish: {
      title: 'Publish new versions of the SOPs that use it?',
      body: 'These active or paused SOPs use this material: {{names}}. A new version makes the tasks created from now on carry the new content; contacts already enrolled stay on their version (you can move them on the SOP page).',
      yes: 'Save and publish new versions', no: 'Save the material only',
      done_one: 'Saved; {{count}} SOP published a new version', done_other: 'Saved; {{count}} SOPs published a new version',
      refused: '"{{name}}" could not publish a new version; open it, fix it and save: {{why}}',
    },
    done: { saved: 'Saved', created: 'Added to the library', deleted: 'Deleted' },
    picker: {
      pick: 'Pick from the library', paste: 'Paste a link', title: 'Pick a material', fromLibrary: 'Library', openLibrary: 'Manage the library',
      search: 'Search materials', none: 'No material matches.',
    },
  },
};
