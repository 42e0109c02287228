import { plan } from './wecom-tag-push';

const contact = (over: Partial<Parameters<typeof plan>[0]> = {}) => ({
  contact_id: 'c1', external_user_id: 'wmC1', owner_member: null, wanted: [] as string[],
  follows: [{ userid: 'early', tags: [] as string[] }, { userid: 'late', tags: [] as string[] }], ...over,
});
const linked = new Set(['etA', 'etB', 'etC']);

describe('plan: the mark_tag calls that make WeCom show our linked tags', () => {
  it('adds a tag no follower has on the owner\'s follow, else on the earliest', () => {
    expect(plan(contact({ wanted: ['etA'] }), linked)).toEqual([{ contactId: 'c1', externalUserId: 'wmC1', userid: 'early', add: ['etA'], remove: [] }]);
    expect(plan(contact({ wanted: ['etA'], owner_member: 'late' }), linked).map((m) => m.userid)).toEqual(['late']);
    // the owner's member does not follow the contact: the earliest follow
    expect(plan(contact({ wanted: ['etA'], owner_member: 'someone' }), linked).map((m) => m.userid)).toEqual(['early']);
  });

  it('sends nothing for a tag some follower shows already, and removes from every follower that has it', () => {
    const follows = [{ userid: 'early', tags: ['etA', 'etB'] }, { userid: 'late', tags: ['etB', 'etOther'] }];
    expect(plan(contact({ wanted: ['etA'], follows }), linked)).toEqual([
      { contactId: 'c1', externalUserId: 'wmC1', userid: 'early', add: [], remove: ['etB'] },
      { contactId: 'c1', externalUserId: 'wmC1', userid: 'late', add: [], remove: ['etB'] },
    ]);
  });

  it('leaves corp tags not linked to ours alone, and answers nothing when WeCom agrees', () => {
    const follows = [{ userid: 'early', tags: ['etA', 'etOther'] }];
    expect(plan(contact({ wanted: ['etA'], follows }), linked)).toEqual([]);
  });

  it('puts an add and a remove for one follow in one call', () => {
    const follows = [{ userid: 'early', tags: ['etB'] }];
    expect(plan(contact({ wanted: ['etA', 'etC'], follows }), linked)).toEqual([
      { contactId: 'c1', externalUserId: 'wmC1', userid: 'early', add: ['etA', 'etC'], remove: ['etB'] },
    ]);
  });
});
