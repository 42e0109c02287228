import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { changeTags, contactsChanged, refreshTagNums, type TagActor, type TagChange, type TagChangeResult } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';

export type { TagActor, TagChange, TagChangeResult };

/** Tag changes for the API's modules: libs/engine `changeTags`, in the caller's transaction or a new one. */
@Injectable()
export class TagWriter {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async change(tenantId: string, contactIds: string[], change: TagChange, actor: TagActor, tx?: EntityManager): Promise<TagChangeResult> {
    return tx ? changeTags(tx, tenantId, contactIds, change, actor) : this.db.transaction((m) => changeTags(m, tenantId, contactIds, change, actor));
  }

  /**
   * Rebuilds the searchable tag_nums copy from contact_tags, announces the change (outbox) and
   * moves the contacts in and out of segments, all in the caller's transaction.
   */
  async refreshTagNums(m: EntityManager, tenantId: string, contactIds: string[], { evaluate = true } = {}): Promise<void> {
    await refreshTagNums(m, tenantId, contactIds);
    if (evaluate) await contactsChanged(m, tenantId, contactIds);
  }
}
