import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const TAG_KINDS = ['manual', 'source', 'behaviour', 'computed'] as const;
export type TagKind = (typeof TAG_KINDS)[number];

/** A group of tags ("Purchase intent"); an exclusive group allows one of its tags per contact. */
@Entity('tag_groups')
export class TagGroup {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column() name: string;
  @Column() exclusive: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('tags')
export class Tag {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** Compact number stored in contacts.tag_nums for index-backed segment queries. */
  @Column({ type: 'int', insert: false, update: false }) num: number;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column({ name: 'group_id', type: 'uuid' }) groupId: string;
  @Column() name: string;
  @Column() color: string;
  @Column({ type: 'text' }) kind: TagKind;
  /** Default weight (interest or intent score) given when the tag is applied without one. */
  @Column({ type: 'numeric', precision: 8, scale: 2, nullable: true, transformer: { to: (v) => v, from: (v) => (v === null ? null : Number(v)) } })
  weight: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
