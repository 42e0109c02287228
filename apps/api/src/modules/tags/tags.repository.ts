import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Tag, TagGroup } from '@sop/db';
import type { DependentKind } from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { DataSource, Repository } from 'typeorm';

export interface TagUser { kind: DependentKind; id: string; name: string }

/**
 * The tag aggregate: `tag_groups`, their `tags` and the tags' `contact_tags` rows, the API's one home for that SQL
 * (the engine's `changeTags` writes contacts' tags). It also holds the statement that finds which segments, source
 * codes, rules, SOPs and materials use some tags. Every statement is keyed by the caller's organization; those that
 * run in the caller's transaction take its manager.
 */
@Injectable()
export class TagsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(TagGroup) private readonly groups: Repository<TagGroup>,
    @InjectRepository(Tag) private readonly tags: Repository<Tag>,
  ) {}

  /** The organization's groups and tags, each oldest first. */
  groupsAndTags(tenantId: string): Promise<[TagGroup[], Tag[]]> {
    return Promise.all([
      this.groups.find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      this.tags.find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ]);
  }

  insertGroup(tenantId: string, name: string, exclusive: boolean): Promise<TagGroup> {
    return this.groups.save(this.groups.create({ tenantId, name, exclusive }));
  }

  findGroup(tenantId: string, id: string): Promise<TagGroup | null> {
    return this.groups.findOneBy({ tenantId, id });
  }

  /** Whether the group is exclusive; undefined when the organization has no such group. */
  async groupExclusive(tenantId: string, id: string): Promise<boolean | undefined> {
    const [group] = await this.db.query(`SELECT exclusive FROM tag_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return group?.exclusive;
  }

  groupExists(tenantId: string, id: string): Promise<boolean> {
    return this.groups.existsBy({ tenantId, id });
  }

  saveGroup(group: TagGroup): Promise<TagGroup> {
    return this.groups.save(group);
  }

  /** A group's tags, oldest first. */
  tagsOfGroup(tenantId: string, groupId: string): Promise<Tag[]> {
    return this.tags.find({ where: { tenantId, groupId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Inserts a tag and reads it back whole (with the defaults the database gave it). */
  async insertTag(tenantId: string, t: Pick<Tag, 'groupId' | 'name' | 'color' | 'kind' | 'weight'>): Promise<Tag> {
    const saved = await this.tags.save(this.tags.create({ tenantId, ...t }));
    return this.tags.findOneByOrFail({ tenantId, id: saved.id });
  }

  /** Every tag of the organization, with its number (rules store numbers) and group. */
  tagNums(tenantId: string): Promise<{ id: string; num: number; group_id: string }[]> {
    return this.db.query(`SELECT id, num, group_id FROM tags WHERE tenant_id = $1`, [tenantId]);
  }

  /** The organization's tags among the ids, each with its group's name and whether the group is exclusive. */
  tagsWithGroups(tenantId: string, ids: string[]): Promise<{ id: string; group_id: string; group_name: string; exclusive: boolean }[]> {
    return this.db.query(
      `SELECT t.id, t.group_id, g.name AS group_name, g.exclusive FROM tags t JOIN tag_groups g ON g.id = t.group_id
        WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])`, [tenantId, ids]);
  }

  /** Which of the ids are still the organization's tags. */
  async existingTagIds(m: Queryable, tenantId: string, ids: string[]): Promise<string[]> {
    return (await m.query(`SELECT id FROM tags WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids])).map((t: { id: string }) => t.id);
  }

  findTag(tenantId: string, id: string): Promise<Tag | null> {
    return this.tags.findOneBy({ tenantId, id });
  }

  saveTag(tag: Tag): Promise<Tag> {
    return this.tags.save(tag);
  }

  async groupTagIds(m: Queryable, tenantId: string, groupId: string): Promise<string[]> {
    return (await m.query(`SELECT id FROM tags WHERE tenant_id = $1 AND group_id = $2`, [tenantId, groupId])).map((r: { id: string }) => r.id);
  }

  async deleteTag(m: Queryable, tenantId: string, id: string): Promise<void> {
    await m.query(`DELETE FROM tags WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /** Deletes the group's tags, then the group. */
  async deleteGroup(m: Queryable, tenantId: string, id: string): Promise<void> {
    await m.query(`DELETE FROM tags WHERE tenant_id = $1 AND group_id = $2`, [tenantId, id]);
    await m.query(`DELETE FROM tag_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /** What uses any of the tags: segments, source codes, computed tag rules, response rules, materials, SOPs not archived (any version). */
  tagUsers(m: Queryable, tenantId: string, tagIds: string[]): Promise<TagUser[]> {
    return m.query(
      `SELECT 'segment' AS kind, id, name FROM segments WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'sourceCode', id, code FROM source_codes WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'computedTag', id, name FROM computed_tag_rules WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'responseRule', id, name FROM response_rules WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'material', id, title FROM materials WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'sop', s.id, s.name FROM sops s WHERE s.tenant_id = $1 AND s.status <> 'archived' AND (s.tag_ids && $2::uuid[]
         OR EXISTS (SELECT 1 FROM sop_versions v WHERE v.sop_id = s.id AND v.tag_ids && $2::uuid[]))
       ORDER BY 1, 3`,
      [tenantId, tagIds],
    );
  }

  /** Takes the tags off every contact; the contacts that had one (distinct). */
  async detachTags(m: Queryable, tenantId: string, tagIds: string[]): Promise<string[]> {
    const touched: { contact_id: string }[] = await m.query(
      `DELETE FROM contact_tags WHERE tenant_id = $1 AND tag_id = ANY($2::uuid[]) RETURNING contact_id`,
      [tenantId, tagIds],
    );
    return [...new Set(touched.map((r) => r.contact_id))];
  }

  /** How many contacts hold more than one tag of the group. */
  async contactsWithSeveralTagsOf(tenantId: string, groupId: string): Promise<number> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM (
         SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
          WHERE ct.tenant_id = $1 AND t.group_id = $2 GROUP BY ct.contact_id HAVING count(*) > 1) x`,
      [tenantId, groupId],
    );
    return row.n;
  }
}
