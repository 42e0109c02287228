import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Tag, TagGroup } from '@sop/db';
import type { DependentKind } from '@sop/domain';
import { DataSource, type EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { CreateTagDto, CreateTagGroupDto, TagDto, TagGroupDto, UpdateTagDto, UpdateTagGroupDto } from './tags.dto';
import { TagWriter } from './tag-writer.service';
import { TAGS_ERRORS } from './tags.errors';
import { type TagUser, TagsRepository } from './tags.repository';

/** Each kind of tag user: where it lives in the API (the paths in a refusal) and its English word (the messages). */
const USERS: Record<DependentKind, { path: string; word: string }> = {
  segment: { path: 'segments', word: 'segment' },
  sourceCode: { path: 'source-codes', word: 'source code' },
  computedTag: { path: 'computed-tags', word: 'computed tag rule' },
  sop: { path: 'sops', word: 'SOP' },
  responseRule: { path: 'response-rules', word: 'response rule' },
  material: { path: 'materials', word: 'material' },
};
const userText = ({ kind, name }: TagUser) => `${USERS[kind].word} "${name}"`;

const toTagDto = ({ id, groupId, name, color, kind, weight }: Tag): TagDto => ({ id, groupId, name, color, kind, weight });

const groupTaken = (name: string) => () => taken(TAGS_ERRORS.TAG_GROUP_NAME_TAKEN, `A tag group named "${name}" already exists here.`, 'name');
const tagTaken = (name: string) => () => taken(TAGS_ERRORS.TAG_NAME_TAKEN, `A tag named "${name}" already exists here.`, 'name');

@Injectable()
export class TagsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tags: TagsRepository,
    private readonly writer: TagWriter,
  ) {}

  async listGroups(tenantId: string): Promise<TagGroupDto[]> {
    const [groups, tags] = await this.tags.groupsAndTags(tenantId);
    return groups.map((g) => ({ id: g.id, name: g.name, exclusive: g.exclusive, tags: tags.filter((t) => t.groupId === g.id).map(toTagDto) }));
  }

  async createGroup(tenantId: string, dto: CreateTagGroupDto): Promise<TagGroupDto> {
    const group = await unlessTaken('tag_groups_tenant_name_key', groupTaken(dto.name), () =>
      this.tags.insertGroup(tenantId, dto.name.trim(), dto.exclusive ?? false),
    );
    return { id: group.id, name: group.name, exclusive: group.exclusive, tags: [] };
  }

  async updateGroup(tenantId: string, id: string, dto: UpdateTagGroupDto): Promise<TagGroupDto> {
    const group = await this.findGroup(tenantId, id);
    if (dto.exclusive && !group.exclusive) await this.assertAtMostOneTagPerContact(tenantId, id);
    Object.assign(group, { name: dto.name?.trim() ?? group.name, exclusive: dto.exclusive ?? group.exclusive });
    await unlessTaken('tag_groups_tenant_name_key', groupTaken(group.name), () => this.tags.saveGroup(group));
    const tags = await this.tags.tagsOfGroup(tenantId, id);
    return { id: group.id, name: group.name, exclusive: group.exclusive, tags: tags.map(toTagDto) };
  }

  async createTag(tenantId: string, dto: CreateTagDto): Promise<TagDto> {
    if (!(await this.tags.groupExists(tenantId, dto.groupId))) {
      throw fail(COMMON_ERRORS.TAG_GROUP_NOT_FOUND, `No tag group with id ${dto.groupId}.`, [{ path: 'groupId', problem: 'no such tag group' }], 422);
    }
    const saved = await unlessTaken('tags_group_name_key', tagTaken(dto.name), () =>
      this.tags.insertTag(tenantId, {
        groupId: dto.groupId, name: dto.name.trim(), color: dto.color ?? '#64748b', kind: dto.kind ?? 'manual', weight: dto.weight ?? null,
      }),
    );
    return toTagDto(saved);
  }

  async updateTag(tenantId: string, id: string, dto: UpdateTagDto): Promise<TagDto> {
    const tag = await this.findTag(tenantId, id);
    Object.assign(tag, { name: dto.name?.trim() ?? tag.name, color: dto.color ?? tag.color, weight: dto.weight === undefined ? tag.weight : dto.weight });
    return toTagDto(await unlessTaken('tags_group_name_key', tagTaken(tag.name), () => this.tags.saveTag(tag)));
  }

  /** Refused while a segment uses the tag (the answer lists them); otherwise removed from every contact. */
  async deleteTag(tenantId: string, id: string): Promise<void> {
    await this.findTag(tenantId, id);
    await this.db.transaction(async (m) => {
      await this.assertUnused(m, tenantId, [id]);
      await this.detach(m, tenantId, [id]);
      await this.tags.deleteTag(m, tenantId, id);
    });
  }

  async deleteGroup(tenantId: string, id: string): Promise<void> {
    await this.findGroup(tenantId, id);
    await this.db.transaction(async (m) => {
      const ids = await this.tags.groupTagIds(m, tenantId, id);
      await this.assertUnused(m, tenantId, ids);
      await this.detach(m, tenantId, ids);
      await this.tags.deleteGroup(m, tenantId, id);
    });
  }

  /** Refuses (409) while anything uses the tags: one detail per user, with its kind and name for clients to word. */
  private async assertUnused(m: EntityManager, tenantId: string, tagIds: string[]): Promise<void> {
    const users = await this.tags.tagUsers(m, tenantId, tagIds);
    if (users.length) {
      throw fail(
        TAGS_ERRORS.TAG_IN_USE, `In use by ${users.map(userText).join(', ')}. Change them first.`,
        users.map((u) => ({ path: `${USERS[u.kind].path}/${u.id}`, problem: `${userText(u)} uses it`, kind: u.kind, name: u.name })),
      );
    }
  }

  private async detach(m: EntityManager, tenantId: string, tagIds: string[]): Promise<void> {
    const touched = await this.tags.detachTags(m, tenantId, tagIds);
    if (touched.length) await this.writer.refreshTagNums(m, tenantId, touched);
  }

  private async assertAtMostOneTagPerContact(tenantId: string, groupId: string): Promise<void> {
    const n = await this.tags.contactsWithSeveralTagsOf(tenantId, groupId);
    if (n > 0) {
      throw fail(TAGS_ERRORS.GROUP_NOT_EXCLUSIVE, `${n} contact(s) have several tags of this group; remove the extras first.`, [
        { path: 'exclusive', problem: 'contacts hold more than one tag of this group' },
      ]);
    }
  }

  /** The caller's tag group or 404: another tenant's id is indistinguishable from one that does not exist. */
  private async findGroup(tenantId: string, id: string): Promise<TagGroup> {
    const group = await this.tags.findGroup(tenantId, id);
    if (!group) throw notFound('tag group', id);
    return group;
  }

  private async findTag(tenantId: string, id: string): Promise<Tag> {
    const tag = await this.tags.findTag(tenantId, id);
    if (!tag) throw notFound('tag', id);
    return tag;
  }
}
