import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Tag, TagGroup } from '@sop/db';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import { findInTenant } from '../../common/tenant-scope';
import type { CreateTagDto, CreateTagGroupDto, TagDto, TagGroupDto, UpdateTagDto, UpdateTagGroupDto } from './tags.dto';
import { TagWriter } from './tag-writer.service';
import { TAGS_ERRORS } from './tags.errors';

/** Where each kind of tag user lives in the API, for the paths in a refusal. */
const USER_PATHS: Record<string, string> = {
  segment: 'segments', 'source code': 'source-codes', 'computed tag rule': 'computed-tags', SOP: 'sops', 'response rule': 'response-rules', material: 'materials',
};

const toTagDto = ({ id, groupId, name, color, kind, weight }: Tag): TagDto => ({ id, groupId, name, color, kind, weight });

const groupTaken = (name: string) => () => taken(TAGS_ERRORS.TAG_GROUP_NAME_TAKEN, `A tag group named "${name}" already exists here.`, 'name');
const tagTaken = (name: string) => () => taken(TAGS_ERRORS.TAG_NAME_TAKEN, `A tag named "${name}" already exists here.`, 'name');

@Injectable()
export class TagsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(TagGroup) private readonly groups: Repository<TagGroup>,
    @InjectRepository(Tag) private readonly tags: Repository<Tag>,
    private readonly writer: TagWriter,
  ) {}

  async listGroups(tenantId: string): Promise<TagGroupDto[]> {
    const [groups, tags] = await Promise.all([
      this.groups.find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      this.tags.find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ]);
    return groups.map((g) => ({ id: g.id, name: g.name, exclusive: g.exclusive, tags: tags.filter((t) => t.groupId === g.id).map(toTagDto) }));
  }

  async createGroup(tenantId: string, dto: CreateTagGroupDto): Promise<TagGroupDto> {
    const group = await unlessTaken('tag_groups_tenant_name_key', groupTaken(dto.name), () =>
      this.groups.save(this.groups.create({ tenantId, name: dto.name.trim(), exclusive: dto.exclusive ?? false })),
    );
    return { id: group.id, name: group.name, exclusive: group.exclusive, tags: [] };
  }

  async updateGroup(tenantId: string, id: string, dto: UpdateTagGroupDto): Promise<TagGroupDto> {
    const group = await findInTenant(this.groups, tenantId, id, 'tag group');
    if (dto.exclusive && !group.exclusive) await this.assertAtMostOneTagPerContact(tenantId, id);
    Object.assign(group, { name: dto.name?.trim() ?? group.name, exclusive: dto.exclusive ?? group.exclusive });
    await unlessTaken('tag_groups_tenant_name_key', groupTaken(group.name), () => this.groups.save(group));
    const tags = await this.tags.find({ where: { tenantId, groupId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    return { id: group.id, name: group.name, exclusive: group.exclusive, tags: tags.map(toTagDto) };
  }

  async createTag(tenantId: string, dto: CreateTagDto): Promise<TagDto> {
    if (!(await this.groups.existsBy({ tenantId, id: dto.groupId }))) {
      throw fail(COMMON_ERRORS.TAG_GROUP_NOT_FOUND, `No tag group with id ${dto.groupId}.`, [{ path: 'groupId', problem: 'no such tag group' }], 422);
    }
    const saved = await unlessTaken('tags_group_name_key', tagTaken(dto.name), () =>
      this.tags.save(this.tags.create({
        tenantId, groupId: dto.groupId, name: dto.name.trim(), color: dto.color ?? '#64748b', kind: dto.kind ?? 'manual', weight: dto.weight ?? null,
      })),
    );
    return toTagDto(await this.tags.findOneByOrFail({ id: saved.id }));
  }

  async updateTag(tenantId: string, id: string, dto: UpdateTagDto): Promise<TagDto> {
    const tag = await findInTenant(this.tags, tenantId, id, 'tag');
    Object.assign(tag, { name: dto.name?.trim() ?? tag.name, color: dto.color ?? tag.color, weight: dto.weight === undefined ? tag.weight : dto.weight });
    return toTagDto(await unlessTaken('tags_group_name_key', tagTaken(tag.name), () => this.tags.save(tag)));
  }

  /** Refused while a segment uses the tag (the answer lists them); otherwise removed from every contact. */
  async deleteTag(tenantId: string, id: string): Promise<void> {
    await findInTenant(this.tags, tenantId, id, 'tag');
    await this.db.transaction(async (m) => {
      await this.assertUnused(m, tenantId, [id]);
      await this.detach(m, tenantId, [id]);
      await m.query(`DELETE FROM tags WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    });
  }

  async deleteGroup(tenantId: string, id: string): Promise<void> {
    await findInTenant(this.groups, tenantId, id, 'tag group');
    await this.db.transaction(async (m) => {
      const ids: string[] = (await m.query(`SELECT id FROM tags WHERE tenant_id = $1 AND group_id = $2`, [tenantId, id])).map((r: { id: string }) => r.id);
      await this.assertUnused(m, tenantId, ids);
      await this.detach(m, tenantId, ids);
      await m.query(`DELETE FROM tags WHERE tenant_id = $1 AND group_id = $2`, [tenantId, id]);
      await m.query(`DELETE FROM tag_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    });
  }

  private async assertUnused(m: EntityManager, tenantId: string, tagIds: string[]): Promise<void> {
    const users: { kind: string; id: string; name: string }[] = await m.query(
      `SELECT 'segment' AS kind, id, name FROM segments WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'source code', id, code FROM source_codes WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'computed tag rule', id, name FROM computed_tag_rules WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'response rule', id, name FROM response_rules WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'material', id, title FROM materials WHERE tenant_id = $1 AND tag_ids && $2::uuid[]
       UNION ALL SELECT 'SOP', s.id, s.name FROM sops s WHERE s.tenant_id = $1 AND s.status <> 'archived' AND (s.tag_ids && $2::uuid[]
         OR EXISTS (SELECT 1 FROM sop_versions v WHERE v.sop_id = s.id AND v.tag_ids && $2::uuid[]))
       ORDER BY 1, 3`,
      [tenantId, tagIds],
    );
    if (users.length) {
      throw fail(
        TAGS_ERRORS.TAG_IN_USE, `In use by ${users.map((u) => `${u.kind} "${u.name}"`).join(', ')}. Change them first.`,
        users.map((u) => ({ path: `${USER_PATHS[u.kind]}/${u.id}`, problem: `${u.kind} "${u.name}" uses it` })),
      );
    }
  }

  private async detach(m: EntityManager, tenantId: string, tagIds: string[]): Promise<void> {
    const touched: { contact_id: string }[] = await m.query(
      `DELETE FROM contact_tags WHERE tenant_id = $1 AND tag_id = ANY($2::uuid[]) RETURNING contact_id`,
      [tenantId, tagIds],
    );
    if (touched.length) await this.writer.refreshTagNums(m, tenantId, [...new Set(touched.map((r) => r.contact_id))]);
  }

  private async assertAtMostOneTagPerContact(tenantId: string, groupId: string): Promise<void> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM (
         SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
          WHERE ct.tenant_id = $1 AND t.group_id = $2 GROUP BY ct.contact_id HAVING count(*) > 1) x`,
      [tenantId, groupId],
    );
    if (row.n > 0) {
      throw fail(TAGS_ERRORS.GROUP_NOT_EXCLUSIVE, `${row.n} contact(s) have several tags of this group; remove the extras first.`, [
        { path: 'exclusive', problem: 'contacts hold more than one tag of this group' },
      ]);
    }
  }
}
