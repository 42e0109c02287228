import type { Http } from './http';

/** A small tag system like the ones operations teams use: an exclusive intent group and product interest. */
export async function createTagSystem(admin: Http) {
  const post = async (path: string, body: unknown) => {
    const res = await admin.post(path, body);
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const intent = await post('/api/tag-groups', { name: 'Purchase intent 购买意向', exclusive: true });
  const product = await post('/api/tag-groups', { name: 'Product interest 产品兴趣' });
  const tags = {
    intentLow: await post('/api/tags', { groupId: intent.id, name: 'Low 低', kind: 'behaviour' }),
    intentHigh: await post('/api/tags', { groupId: intent.id, name: 'High 高', kind: 'behaviour', weight: 80 }),
    productA: await post('/api/tags', { groupId: product.id, name: 'Product A' }),
    productB: await post('/api/tags', { groupId: product.id, name: 'Product B' }),
  };
  return { groups: { intent, product }, tags };
}
