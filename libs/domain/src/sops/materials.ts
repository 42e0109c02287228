import type { ErrorDetail } from '../errors';
import type { SopDefinition } from './definition';
import { jsonPath } from './validate';

/** What a material of the library is: how the console shows it and what an employee sends. */
export const MATERIAL_KINDS = ['link', 'article', 'image', 'file', 'mini_program', 'coupon'] as const;
export type MaterialKind = (typeof MATERIAL_KINDS)[number];

/** What a step takes from the library when it names a material: the rest of the library row stays in the library. */
export interface LibraryMaterial { title: string; url: string; tagIds: string[]; kind?: MaterialKind; coverUrl?: string | null }

/** The library materials a definition's steps name (lowercase ids, each once). */
export function materialIdsOf(def: SopDefinition): string[] {
  const ids = new Set<string>();
  for (const step of def.steps) for (const m of step.content.materials) if (m.materialId) ids.add(m.materialId);
  return [...ids];
}

/**
 * The definition with each picked material's title, URL and tags copied from the library as it is now, so a
 * published version carries everything it sends and stays the same whatever the library does later. A
 * material the library no longer has is a problem at its path.
 */
export function withLibraryMaterials(
  def: SopDefinition, library: ReadonlyMap<string, LibraryMaterial>,
): { definition: SopDefinition; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const steps = def.steps.map((step, s) => ({
    ...step,
    content: {
      ...step.content,
      materials: step.content.materials.map((m, i) => {
        if (!m.materialId) return m;
        const found = library.get(m.materialId);
        if (!found) {
          problems.push({ path: jsonPath(['steps', s, 'content', 'materials', i, 'materialId']), problem: `unknown material ${m.materialId}` });
          return m;
        }
        // an image is marked (a WeCom mass-send uploads it); other kinds go as links, as before
        return {
          materialId: m.materialId, title: found.title, url: found.url, tagIds: [...found.tagIds],
          ...(found.kind === 'image' ? { kind: 'image' as const } : {}), ...(found.coverUrl ? { coverUrl: found.coverUrl } : {}),
        };
      }),
    },
  }));
  return { definition: { ...def, steps }, problems };
}
