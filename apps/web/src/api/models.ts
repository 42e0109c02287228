import type { Schemas } from './client';

/** The API's answers the console reads everywhere, as its OpenAPI document declares them. */
export type Role = Schemas['UserDto']['role'];
export type TagKind = Schemas['TagDto']['kind'];
export type Tag = Schemas['TagDto'];
export type TagGroup = Schemas['TagGroupDto'];
export type User = Schemas['UserDto'];
export type Team = Schemas['TeamDto'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
