import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '我的任务', teamTitle: '团队任务',
    keysHint: '快捷键：j / k 上下移动 · o 打开 · c 复制话术 · Enter 标记为已发送 · x 选择 · Esc 关闭',
    lists: { today: '今天', overdue: '已逾期', upcoming: '即将到来', done: '已完成' },
    filters: {
      title: '筛选', sop: 'SOP', channel: '渠道', executor: '执行人', allSops: '全部 SOP', allChannels: '全部渠道', everyone: '全部成员', clear: '清除筛选',
    },
    empty: {
      today: '今天没有待办任务。新任务到期时会出现在这里；可以看看“即将到来”提前准备。',
      overdue: '没有逾期任务。做得好！在时间窗口内完成任务，它们就不会出现在这里。',
      upcoming: '暂时没有即将到来的任务。之后到期的任务和被推迟的任务会出现在这里。',
      done: '还没有完成的任务。完成或跳过的任务会出现在这里。',
      filtered: '当前筛选条件下没有任务：清除筛选可查看全部任务。',
    },
    channels: {
      wecom_chat: '企微私聊', group_chat: '客户群', moments: '朋友圈', official_account: '公众号', mini_program: '小程序', video_channel: '视频号',
      sms: '短信', email: '邮件', phone_call: '电话', offline_visit: '到店/拜访', other: '其他',
    },
    outcomes: { sent: '已发送', replied: '客户已回复', interested: '有兴趣', not_interested: '没兴趣', bought: '已购买', wrong_contact: '联系人有误', other: '其他' },
    wecomSend: {
      handed: '已交给企业微信群发：请在企业微信中确认发送', sent: '企业微信已发送', not_friend: '企业微信未发送：客户已不是你的好友，请手动处理',
      monthly_limit: '未交给企业微信：该客户本月已收到 4 条企业群发（企业微信上限），请手动发送', no_wecom_id: '未交给企业微信：缺少企业微信身份，请手动发送',
      failed: '企业微信拒绝了这次群发，请手动发送', unsent: '企业微信群发未发送，请手动处理', reason: '原因',
    },
    statuses: { pending: '待办', done: '已完成', skipped: '已跳过', expired: '已过期', cancelled: '已取消' },
    events: { completed: '完成', skipped: '跳过', snoozed: '推迟', reassigned: '转交', created: '创建', deferred: '顺延', expired: '已过期', released: '有空位后已排期' },
    responseKinds: {
      replied: '回复了', opened: '打开了素材', bought: '购买了', joined: '加入', joined_group: '加入了群', left_group: '退出了群',
      unsubscribed: '退订了', outcome: '员工记录', custom: '事件',
    },
    due: {
      opensIn: '{{d}}后开始', closesIn: '还剩 {{d}}截止', overdueBy: '已逾期 {{d}}', startsAt: '{{t}} 开始', snoozedUntil: '已推迟到 {{t}}',
      finishedAt: '完成于 {{t}}', onTime: '按时', late: '超时', minutes: '{{n}} 分钟', hours: '{{h}} 小时', hoursMinutes: '{{h}} 小时 {{m}} 分钟', days: '{{n}} 天',
    },
    row: { copy: '复制话术', sent: '已发送', select: '选择 {{name}} 的任务', group: '群', unassigned: '未分配' },
    bulk: { selected: '已选 {{n}} 项', complete: '完成所选', clear: '取消选择', selectAll: '全选本页', done: '已完成 {{n}} 项任务', refused: '{{n}} 项未能完成：{{why}}' },
    panel: {
      close: '关闭', message: '话术', copy: '复制话术', copied: '已复制，可以粘贴到企业微信了', copyFailed: '无法自动复制，请选中文字后手动复制。',
      materials: '素材', copyLink: '复制链接', linkCopied: '链接已复制', trackedHint: '这是本任务专属的追踪链接，客户打开后会自动记录。',
      customer: '客户', tags: '标签', noTags: '暂无标签', responses: '最近的响应', noResponses: '暂无响应', history: '任务记录', noHistory: '还没有操作记录',
      window: '时间窗口', status: '状态', executor: '执行人', sop: 'SOP', channel: '渠道', openContact: '查看客户',
      complete: '完成', outcome: '结果', note: '备注（可选）', notePlaceholder: '例如：客户说下周到店',
      skip: '跳过', reason: '原因', reasonPlaceholder: '例如：客户这周不方便联系', reasonRequired: '请填写跳过的原因',
      snooze: '推迟', snooze1h: '1 小时后', snoozeTomorrow: '明天 9:00', snoozeAt: '推迟到', snoozeGo: '推迟', pickTime: '请选择一个将来的时间。',
      reassign: '转交', reassignTo: '转交给', reassignGo: '转交', reassignPick: '选择同事',
      completed: '任务已完成', skipped: '任务已跳过', snoozed: '已推迟到 {{t}}', reassigned: '已转交给 {{name}}',
      finished: '这个任务已经结束。', gone: '找不到这个任务（可能已转交给别人）。',
    },
    loadMore: '加载更多', retry: '重试', failed: '加载失败：{{message}}',
  },
  en: {
    title: 'My tasks', teamTitle: 'Team tasks',
    keysHint: 'Keys: j / k to move · o to open · c to copy the message · Enter to mark as sent · x to select · Esc to close',
    lists: { today: 'Today', overdue: 'Overdue', upcoming: 'Upcoming', done: 'Done' },
    filters: {
      title: 'Filter', sop: 'SOP', channel: 'Channel', executor: 'Assignee', allSops: 'All SOPs', allChannels: 'All channels', everyone: 'Everyone', clear: 'Clear filters',
    },
    empty: {
      today: 'Nothing left for today. New tasks appear here as they fall due; look at Upcoming to prepare.',
      overdue: 'No overdue tasks. Well done! Finish tasks within their window and they never land here.',
      upcoming: 'Nothing coming up. Tasks due later and snoozed tasks appear here.',
      done: 'Nothing done yet. Tasks you complete or skip appear here.',
      filtered: 'No tasks match these filters: clear them to see every task.',
    },
    channels: {
      wecom_chat: 'WeCom chat', group_chat: 'Customer group', moments: 'Moments', official_account: 'Official account', mini_program: 'Mini program',
      video_channel: 'Video channel', sms: 'SMS', email: 'Email', phone_call: 'Phone call', offline_visit: 'Visit', other: 'Other',
    },
    outcomes: { sent: 'Sent', replied: 'Customer replied', interested: 'Interested', not_interested: 'Not interested', bought: 'Bought', wrong_contact: 'Wrong contact', other: 'Other' },
    wecomSend: {
      handed: 'Handed to WeCom: confirm the send in WeCom', sent: 'Sent through WeCom', not_friend: 'WeCom did not send it: the customer is no longer your contact; do it by hand',
      monthly_limit: 'Not handed to WeCom: the customer had 4 mass-sends this month (WeCom\'s limit); send it by hand', no_wecom_id: 'Not handed to WeCom: no WeCom identity; send it by hand',
      failed: 'WeCom refused this mass-send; send it by hand', unsent: 'The WeCom mass-send was not sent; do it by hand', reason: 'Reason',
    },
    statuses: { pending: 'Pending', done: 'Done', skipped: 'Skipped', expired: 'Expired', cancelled: 'Cancelled' },
    events: { completed: 'Completed', skipped: 'Skipped', snoozed: 'Snoozed', reassigned: 'Reassigned', created: 'Created', deferred: 'Moved later', expired: 'Expired', released: 'Scheduled once room appeared' },
    responseKinds: {
      replied: 'Replied', opened: 'Opened a material', bought: 'Bought', joined: 'Joined', joined_group: 'Joined a group', left_group: 'Left a group',
      unsubscribed: 'Unsubscribed', outcome: 'Recorded by an employee', custom: 'Event',
    },
    due: {
      opensIn: 'opens in {{d}}', closesIn: 'closes in {{d}}', overdueBy: 'overdue by {{d}}', startsAt: 'starts {{t}}', snoozedUntil: 'snoozed until {{t}}',
      finishedAt: 'finished {{t}}', onTime: 'on time', late: 'late', minutes: '{{n}} min', hours: '{{h}} h', hoursMinutes: '{{h}} h {{m}} min', days: '{{n}} d',
    },
    row: { copy: 'Copy message', sent: 'Sent', select: 'Select the task for {{name}}', group: 'Group', unassigned: 'Unassigned' },
    bulk: { selected: '{{n}} selected', complete: 'Complete selected', clear: 'Clear selection', selectAll: 'Select all on this page', done: '{{n}} tasks completed', refused: '{{n}} could not be completed: {{why}}' },
    panel: {
      close: 'Close', message: 'Message', copy: 'Copy message', copied: 'Copied: paste it into WeCom', copyFailed: 'Could not copy: select the text and copy it by hand.',
      materials: 'Materials', copyLink: 'Copy link', linkCopied: 'Link copied', trackedHint: 'This link is unique to this task: an open is recorded for the customer.',
      customer: 'Customer', tags: 'Tags', noTags: 'No tags', responses: 'Recent responses', noResponses: 'No responses yet', history: 'History', noHistory: 'Nothing has happened yet',
      window: 'Window', status: 'Status', executor: 'Assignee', sop: 'SOP', channel: 'Channel', openContact: 'Open the customer',
      complete: 'Complete', outcome: 'Outcome', note: 'Note (optional)', notePlaceholder: 'e.g. will visit the store next week',
      skip: 'Skip', reason: 'Reason', reasonPlaceholder: 'e.g. asked not to be contacted this week', reasonRequired: 'Say why you skip it',
      snooze: 'Snooze', snooze1h: 'In 1 hour', snoozeTomorrow: 'Tomorrow 9:00', snoozeAt: 'Snooze until', snoozeGo: 'Snooze', pickTime: 'Pick a time in the future.',
      reassign: 'Reassign', reassignTo: 'Hand to', reassignGo: 'Reassign', reassignPick: 'Pick a colleague',
      completed: 'Task completed', skipped: 'Task skipped', snoozed: 'Snoozed until {{t}}', reassigned: 'Handed to {{name}}',
      finished: 'This task is finished.', gone: 'That task is not here (it may have been handed to someone else).',
    },
    loadMore: 'Load more', retry: 'Retry', failed: 'Could not load: {{message}}',
  },
};
