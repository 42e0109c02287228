import { Select, Tag as TagChip, type SelectProps } from 'antd';
import { useTagGroups, useTagIndex } from '../api/directory';

/** Relative luminance of a #rrggbb colour (WCAG). */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** A tag in its own colour, with black or white text, whichever reads better on it (WCAG contrast). */
export function tagStyle(color: string | undefined): React.CSSProperties | undefined {
  if (!color || !/^#[0-9a-f]{6}$/i.test(color)) return undefined;
  const l = luminance(color);
  const white = 1.05 / (l + 0.05);
  const black = (l + 0.05) / 0.05;
  return { background: color, borderColor: color, color: white >= black ? '#fff' : 'rgba(0, 0, 0, 0.88)' };
}

/** Picks tags, grouped as in the tag system, searchable by tag or group name, shown in their colours. */
export function TagSelect({ multiple = true, ...props }: Omit<SelectProps<string | string[]>, 'options' | 'mode'> & { multiple?: boolean }) {
  const { data: groups = [], isLoading } = useTagGroups();
  const { index } = useTagIndex();
  return (
    <Select<string | string[]>
      mode={multiple ? 'multiple' : undefined}
      loading={isLoading}
      allowClear
      showSearch={{ optionFilterProp: 'search' }}
      options={groups.map((g) => ({
        label: g.name,
        title: g.name,
        options: g.tags.map((tag) => ({ value: tag.id, label: tag.name, search: `${g.name} ${tag.name}` })),
      }))}
      tagRender={({ value, closable, onClose }) => {
        const tag = index.get(String(value));
        return (
          <TagChip closable={closable} onClose={onClose} style={{ marginInlineEnd: 4, ...tagStyle(tag?.color) }}>
            {tag ? tag.name : String(value)}
          </TagChip>
        );
      }}
      {...props}
    />
  );
}

/** Shows tags by id in their colours (unknown ids, e.g. just deleted, are left out). */
export function TagList({ ids }: { ids: string[] }) {
  const { index } = useTagIndex();
  return (
    <>
      {ids.map((id) => {
        const tag = index.get(id);
        return tag ? <TagChip key={id} style={tagStyle(tag.color)} title={tag.group.name}>{tag.name}</TagChip> : null;
      })}
    </>
  );
}
