import { useInfiniteQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';

export type Material = Schemas['LibraryMaterialDto'];
export type MaterialKind = Material['kind'];
export const MATERIAL_KINDS: MaterialKind[] = ['link', 'article', 'image', 'file', 'mini_program', 'coupon'];

export interface MaterialFilter { q?: string; folder?: string; kind?: MaterialKind }

/** The library newest first, a keyset page at a time. */
export function useMaterialPages(filter: MaterialFilter, pageSize = 50) {
  return useInfiniteQuery({
    queryKey: ['materials', 'pages', filter, pageSize],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => call(api.GET('/api/materials', { params: { query: {
      limit: pageSize, ...(filter.q ? { q: filter.q } : {}), ...(filter.folder !== undefined ? { folder: filter.folder } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}), ...(pageParam ? { cursor: pageParam } : {}),
    } } })),
    getNextPageParam: (p) => p.nextCursor ?? undefined,
  });
}
