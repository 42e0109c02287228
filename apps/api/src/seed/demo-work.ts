// The demo organization's day of work, created once through the API as the ops user: a tag system, twelve
// customers owned by the two employees, a "high intent" segment, a journey with a tracked coupon, and a
// response rule; activating the journey makes the worker put today's tasks in the employees' inboxes.

type Call = (method: string, path: string, body?: unknown) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function client(base: string, email: string, password: string): Promise<Call> {
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`demo work: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const { accessToken } = await call('POST', '/api/auth/login', { email, password });
  return (method, path, body) => call(method, path, body, accessToken);
}

/**
 * The journey's steps are open all day (00:00-23:59 in the customer's zone), so the demo shows today's tasks at
 * whatever hour it is started. `timezone` is the customers' zone (Shanghai, as the demo's story says): a test
 * passes one where the day is hours from its end, as in Shanghai's last minute the day-0 tasks wait for midnight.
 */
export async function seedDemoWork(
  base: string, password: string, { timezone = 'Asia/Shanghai' }: { timezone?: string } = {},
): Promise<{ contacts: number; sop: string }> {
  const admin = await client(base, 'admin@demo.example', password);
  const ops = await client(base, 'ops@demo.example', password);
  const users: { id: string; email: string }[] = (await admin('GET', '/api/users')).items;
  const owners = ['employee1@demo.example', 'employee2@demo.example'].map((e) => users.find((u) => u.email === e)!.id);
  const intent = await ops('POST', '/api/tag-groups', { name: 'Purchase intent 购买意向', exclusive: true });
  const lowTag = await ops('POST', '/api/tags', { groupId: intent.id, name: 'Low 低', kind: 'behaviour', color: '#94a3b8' });
  const highTag = await ops('POST', '/api/tags', { groupId: intent.id, name: 'High 高', kind: 'behaviour', color: '#ef4444' });
  const products = await ops('POST', '/api/tag-groups', { name: 'Product interest 产品兴趣' });
  const productB = await ops('POST', '/api/tags', { groupId: products.id, name: 'Product B 产品B', kind: 'behaviour', color: '#2563eb' });
  const names = ['李雷', '韩梅梅', '王小明', '陈静', '刘洋', '赵敏', 'Lucy Chen', 'Tom Li', '周杰', '吴磊', '孙丽', 'Amy Wang'];
  for (const [i, name] of names.entries()) {
    await ops('POST', '/api/contacts', {
      externalId: `demo-${i + 1}`, name, ownerId: owners[i % 2], timezone,
      tags: [i % 3 === 2 ? lowTag.id : highTag.id], attributes: { city: ['上海', '北京', '杭州'][i % 3] },
    });
  }
  const segment = await ops('POST', '/api/segments', { name: 'High intent 高意向', rule: { tag: highTag.id } });
  const step = (name: string, offsetDays: number, template: string, materials: object[] = []) => ({
    name, offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
    content: { template, materials }, executor: { rule: 'contactOwner' }, reminder: { dueSoonMinutes: 60 },
  });
  const coupon = { title: 'Product B coupon 产品B优惠券', url: 'https://example.com/coupon', tagIds: [productB.id] };
  const sop = await ops('POST', '/api/sops', {
    name: 'High intent follow-up 高意向跟进',
    definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [
        step('Say hello 问候', 0, '{{ contact.name }}，您好！我是{{ owner.name }}。Product B 新品到了，送您一张优惠券：', [coupon]),
        step('Check in 回访', 2, '{{ contact.name }}，优惠券用上了吗？有问题随时找我。'),
      ],
      policies: { businessDaysOnly: false, exitOn: [{ on: 'replied' }, { on: 'bought' }] },
    },
  });
  await ops('POST', '/api/response-rules', {
    name: 'Interested in Product B 对B产品感兴趣',
    when: { kind: 'outcome', outcome: 'interested', sopId: sop.id }, then: { addTagIds: [productB.id, highTag.id] },
  });
  await ops('POST', `/api/sops/${sop.id}/activate`);
  return { contacts: names.length, sop: sop.name };
}
