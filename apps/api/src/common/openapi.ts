import { type INestApplication, ParseUUIDPipe, type Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger/dist/constants';
import { ApiParam, ApiProperty, ApiPropertyOptional, type ApiPropertyOptions, ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { DEPENDENT_KINDS, type DependentKind, ROLES, type Role } from '@sop/domain';
import { API_ERRORS, ERROR_CODES, type ErrorCode } from './api-errors';
import { type ApiErrorStatus, statusesOf } from './errors.catalog';
import { PUBLIC_KEY, ROLES_KEY } from './principal';

/** A UUID field of an answer. */
export const ApiUuid = (options: { nullable?: boolean; description?: string } = {}) =>
  ApiProperty({ type: String, format: 'uuid', ...options });

/** A JSON object field whose keys are free (attributes, a rule tree, event data); values typed when given. */
export const ApiFreeObject = (
  options: { required?: boolean; nullable?: boolean; description?: string; example?: unknown; values?: 'number' | 'boolean' } = {},
) => {
  const { values, ...rest } = options;
  return ApiProperty({ type: 'object', additionalProperties: values ? { type: values } : true, ...rest } as ApiPropertyOptions);
};

/** A success answer that is not JSON: a CSV file, an event stream, Prometheus text. */
export const ApiTextResponse = (mediaType: string, description: string, status = 200) =>
  ApiResponse({ status, description, content: { [mediaType]: { schema: { type: 'string' } } } });

export class ErrorDetailDto {
  @ApiProperty({ example: 'members[2].email', description: 'The field, as a JSON path; empty for the request as a whole' }) path: string;
  @ApiProperty({ example: 'must be an email', description: 'In English, for a person' }) problem: string;
  @ApiPropertyOptional({
    enum: DEPENDENT_KINDS, enumName: 'DependentKind',
    description: 'What uses the resource and so keeps it from being deleted (each …_IN_USE refusal gives one detail per user, its path naming it): '
      + 'a stable code to word in the reader\'s language',
  })
  kind?: DependentKind;
  @ApiPropertyOptional({ example: '高意向客户', description: 'With kind: its name (a source code\'s code, a material\'s title)' }) name?: string;
}

/** What every error answers (common/error.filter.ts). */
export class ErrorBodyDto {
  @ApiProperty({
    enum: ERROR_CODES, enumName: 'ErrorCode',
    description: 'Stable: clients branch on it and show its text, never the message. Every code, its statuses and meaning: x-error-catalog of ErrorCode.',
  })
  code: ErrorCode;

  @ApiProperty({ description: 'In English, for a person; may name the field or value' }) message: string;
  @ApiPropertyOptional({ type: [ErrorDetailDto], description: 'One per problem when the error is about fields' }) details?: ErrorDetailDto[];
  @ApiProperty({ description: 'X-Request-Id of the request (one is made when it sent none): quote it when reporting a problem' })
  requestId: string;
}

/** A code the operation answers with its catalog status; [code, status] for a code with several (TEAM_NOT_FOUND: 404 or 422). */
export type ErrorRef = ErrorCode | readonly [ErrorCode, ApiErrorStatus];

const ERRORS_KEY = 'sop:api-errors';

/**
 * Documents the errors an operation answers: one response per status, with the ErrorBody schema, the
 * codes and their meaning in its description and the codes in `x-error-codes`. Repeatable: codes add up.
 */
export function ApiErrors(...refs: ErrorRef[]): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const byStatus: Map<number, Set<ErrorCode>> = Reflect.getMetadata(ERRORS_KEY, handler) ?? new Map();
    for (const ref of refs) {
      const [code, status] = typeof ref === 'string' ? [ref, undefined] : ref;
      const statuses = statusesOf(API_ERRORS[code]);
      if (status === undefined ? statuses.length > 1 : !statuses.includes(status)) {
        throw new Error(`${String(key)}: ${code} answers ${statuses.join(' or ')}; name one as [code, status]`);
      }
      const s = status ?? statuses[0];
      byStatus.set(s, (byStatus.get(s) ?? new Set()).add(code));
    }
    Reflect.defineMetadata(ERRORS_KEY, byStatus, handler);
    for (const [status, codes] of byStatus) {
      const sorted = [...codes].sort();
      ApiResponse({
        status,
        type: ErrorBodyDto,
        description: sorted.map((c) => `- \`${c}\`: ${API_ERRORS[c].message}`).join('\n'),
        'x-error-codes': sorted,
      } as ApiResponseOptions)(target, key, descriptor);
    }
    return descriptor;
  };
}

/**
 * Documents on every route the errors it answers by what it is, read from the metadata that causes
 * them, so the two cannot drift: 401 unless @Public() and 403 unless every role may call it (the
 * access guard's rule), 400 for a validated body, query or path id, the body parser's errors for a
 * JSON body, 429 behind the login throttler, 500 and 503 (no database connection free in time) anywhere. The errors of the route's own logic are
 * declared with @ApiErrors. Run before the document is built.
 */
export function documentRouteErrors(app: INestApplication): void {
  const reflector = new Reflector(); // not app.get(): in preview mode (npm run api:types) providers are not instantiated
  const scanner = new MetadataScanner();
  for (const { metatype } of new DiscoveryService(app.get(ModulesContainer)).getControllers()) {
    const controller = metatype as Type | null;
    if (!controller) continue;
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name);
      if (!descriptor || !Reflect.hasMetadata(PATH_METADATA, descriptor.value)) continue;
      ApiErrors(...routeErrors(reflector, controller, name))(controller.prototype, name, descriptor);
      for (const param of uuidParams(controller, name)) ApiParam({ name: param, schema: { type: 'string', format: 'uuid' } })(controller.prototype, name, descriptor);
    }
  }
}

const BODY_ERRORS: ErrorRef[] = [['VALIDATION_FAILED', 400], 'MALFORMED_JSON', 'MALFORMED_BODY', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_ENCODING'];
const isDto = (type: unknown) => typeof type === 'function' && ![String, Number, Boolean, Object, Array].includes(type as never);

function routeErrors(reflector: Reflector, controller: Type, name: string): ErrorRef[] {
  const handler = controller.prototype[name];
  const targets = [handler, controller];
  // 503 when no database connection was free in time, unless the route answers 503 its own way (readiness)
  const own: Record<string, unknown> = Reflect.getMetadata(DECORATORS.API_RESPONSE, handler) ?? {};
  const errors: ErrorRef[] = ['INTERNAL', ...('503' in own ? [] : ['DATABASE_BUSY' as const])];
  if (!reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) {
    const roles = reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    errors.push('UNAUTHENTICATED', ...(ROLES.every((r) => roles.includes(r)) ? [] : ['ROLE_FORBIDDEN' as const]));
  }
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', controller.prototype, name) ?? [];
  const args: Record<string, { index: number; pipes?: unknown[] }> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {};
  for (const [key, { index, pipes }] of Object.entries(args)) {
    const kind = Number(key.split(':')[0]);
    if (kind === RouteParamtypes.BODY && isDto(types[index])) errors.push(...BODY_ERRORS);
    // any query string is held to what Postgres can store before the route runs (body-guards' refuseBadText)
    if (kind === RouteParamtypes.QUERY || (kind === RouteParamtypes.PARAM && (pipes?.length || isDto(types[index])))) {
      errors.push(['VALIDATION_FAILED', 400]);
    }
  }
  const guards = reflector.getAllAndMerge<unknown[]>(GUARDS_METADATA, targets);
  if (guards.some((g) => typeof g === 'function' && g.prototype instanceof ThrottlerGuard)) errors.push('RATE_LIMITED');
  return errors;
}

/** Path parameters checked as UUIDs (IdParam: ParseUUIDPipe), so the document gives their format. */
function uuidParams(controller: Type, name: string): string[] {
  const args: Record<string, { data?: unknown; pipes?: unknown[] }> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {};
  return Object.entries(args)
    .filter(([key, { data, pipes }]) => Number(key.split(':')[0]) === RouteParamtypes.PARAM && typeof data === 'string' && pipes?.some((p) => p instanceof ParseUUIDPipe))
    .map(([, { data }]) => data as string);
}

/** Publishes the whole catalog on the ErrorCode schema: each code's statuses and meaning. */
export function withErrorCatalog<T extends { components?: { schemas?: Record<string, object> } }>(document: T): T {
  const schema = document.components?.schemas?.ErrorCode;
  if (schema) {
    Object.assign(schema, {
      'x-error-catalog': Object.fromEntries(ERROR_CODES.map((c) => [c, { status: statusesOf(API_ERRORS[c]), message: API_ERRORS[c].message }])),
    });
  }
  return document;
}

/** Adds schemas made elsewhere (from zod) to the document's components, for `@ApiSchemaRef` properties to point at. */
export function withSchemas<T extends { components?: { schemas?: Record<string, object> } }>(document: T, schemas: Record<string, object>): T {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...schemas } };
  return document;
}

/** A property whose schema is one of the components added by `withSchemas`. */
export const ApiSchemaRef = (name: string, options: { required?: boolean; description?: string; example?: unknown } = {}) =>
  ApiProperty({ allOf: [{ $ref: `#/components/schemas/${name}` }], ...options } as ApiPropertyOptions);
