import { definitionSchema } from './definition';
import { materialIdsOf, withLibraryMaterials } from './materials';

const LIB = 'aaaaaaaa-0000-4000-8000-000000000001';
const GONE = 'bbbbbbbb-0000-4000-8000-000000000002';
const TAG = 'cccccccc-0000-4000-8000-000000000003';

const definition = definitionSchema.parse({
  kind: 'journey', audience: { segmentId: 'dddddddd-0000-4000-8000-000000000004' },
  steps: [{
    name: 'Send', offsetDays: 0, window: { start: '09:00', end: '18:00' }, channel: 'wecom_chat', executor: { rule: 'contactOwner' },
    content: { template: 'hi', materials: [
      { title: 'Pasted', url: 'https://pasted.example/' },
      { materialId: LIB.toUpperCase(), title: 'old title', url: 'https://old.example/' },
      { materialId: GONE, title: 'gone', url: 'https://gone.example/' },
    ] },
  }],
});

describe('library materials in a definition', () => {
  it('lists the picked ids once, lowercased by the schema', () => {
    expect(materialIdsOf(definition)).toEqual([LIB, GONE]);
  });

  it("copies the library's title, URL and tags over a pick, keeps pasted ones, and names a missing one at its path", () => {
    const { definition: out, problems } = withLibraryMaterials(definition, new Map([[LIB, { title: '新品券', url: 'https://shop.example/c', tagIds: [TAG] }]]));
    expect(out.steps[0].content.materials).toEqual([
      { title: 'Pasted', url: 'https://pasted.example/', tagIds: [] },
      { materialId: LIB, title: '新品券', url: 'https://shop.example/c', tagIds: [TAG] },
      { materialId: GONE, title: 'gone', url: 'https://gone.example/', tagIds: [] },
    ]);
    expect(problems).toEqual([{ path: 'definition.steps[0].content.materials[2].materialId', problem: `unknown material ${GONE}` }]);
    expect(definition.steps[0].content.materials[1].title).toBe('old title'); // the input is not changed
  });
});
