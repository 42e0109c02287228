import { eventsOf, parseEvent } from './event-schema';

describe('ingested event shapes', () => {
  const purchase = { id: 'e1', type: 'purchase', externalId: 'wx_1', data: { orderId: 'SO-1', amount: 12.5, currency: 'CNY' } };

  it('accepts each type in its shape and names every bad field relative to the event', () => {
    expect(parseEvent(purchase)).toEqual({ ok: true, event: purchase });
    expect(parseEvent({ id: 'c', type: 'custom', name: 'quiz.done', externalId: 'x' })).toMatchObject({ ok: true });
    const bad = parseEvent({ ...purchase, occurredAt: '2999-01-01T00:00:00Z', data: { orderId: '', amount: -1, currency: 'rmb', x: 1 } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.map((p) => p.path).sort()).toEqual(['data', 'data.amount', 'data.currency', 'data.orderId', 'occurredAt']);
    expect(parseEvent({ id: 'e', type: 'refund', externalId: 'x' })).toEqual({ ok: false, id: 'e', problems: [
      { path: 'type', problem: 'must be one of purchase, reply, group.joined, group.left, unsubscribed, contact.joined, custom' }] });
    expect(parseEvent('nope')).toMatchObject({ ok: false, id: null, problems: [{ path: '', problem: 'must be an object' }] });
    expect(parseEvent({ id: 'g', type: 'group.joined', externalId: 'x', data: { groupId: 'not-a-uuid' } })).toMatchObject({ ok: false, problems: [{ path: 'data.groupId' }] });
    expect(parseEvent({ id: 'u', type: 'custom', externalId: 'x', name: 'big', data: { blob: 'x'.repeat(9000) } })).toMatchObject({ ok: false, problems: [{ path: 'data' }] });
  });

  it('refuses the NUL character Postgres cannot store, naming where it is', () => {
    const reply = { id: 'r-1', type: 'reply', externalId: 'wx_1', data: { text: 'hi', nested: [{ ok: 'x' }, { bad: 'a\u0000b' }] } };
    expect(parseEvent(reply)).toEqual({ ok: false, id: 'r-1', problems: [{ path: 'data.nested[1].bad', problem: 'must not contain the NUL character (\\u0000)' }] });
    expect(parseEvent({ ...reply, id: 'r\u00002', data: {} })).toMatchObject({ ok: false, problems: [{ path: 'id' }] });
    expect(parseEvent({ ...reply, data: { ['k\u0000']: 1 } })).toMatchObject({ ok: false, problems: [{ path: 'data.k\u0000' }] });
    expect(parseEvent({ ...reply, data: { text: 'fine' } })).toMatchObject({ ok: true });
  });

  it('reads one event, a bare array or { events }, with 1 to 500 events', () => {
    expect(eventsOf(purchase)).toEqual([purchase]);
    expect(eventsOf([purchase, purchase])).toHaveLength(2);
    expect(eventsOf({ events: [purchase] })).toEqual([purchase]);
    expect(eventsOf({ events: [] })).toEqual({ path: 'events', problem: 'must hold at least one event' });
    expect(eventsOf({ events: 'x' })).toMatchObject({ path: 'events' });
    expect(eventsOf(null)).toMatchObject({ path: 'events' });
    expect(eventsOf(new Array(501).fill(purchase))).toEqual({ path: 'events', problem: 'at most 500 events per request (got 501)' });
  });
});
