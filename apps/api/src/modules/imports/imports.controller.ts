import { Controller, Get, Headers, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import type { Readable } from 'node:stream';
import { BodyAs, type HttpRequest } from '../../common/http';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CONTACT_COLUMNS } from './contact-row';
import { ContactImportService } from './contact-import.service';
import { ImportDto, ImportSummaryDto, ImportQuery, RecentImportsQuery } from './imports.dto';

@ApiTags('imports')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('imports')
export class ImportsController {
  constructor(private readonly imports: ContactImportService) {}

  @Post('contacts')
  @BodyAs('stream')
  @ApiConsumes('text/csv')
  @ApiBody({ description: `UTF-8 CSV with a header row. Columns: ${CONTACT_COLUMNS.join(', ')}, and attr.<key> for attributes. ` +
    'tags: names separated by |, as "Group:Tag" when a name repeats. Rows are upserted by external_id.' })
  @ApiOperation({ summary: 'Import contacts from CSV (streamed); bad rows are reported, valid rows kept' })
  @ApiCreatedResponse({ type: ImportDto })
  @ApiErrors('UNSUPPORTED_MEDIA_TYPE', 'CSV_COLUMNS_INVALID', 'IMPORT_ID_TAKEN')
  contacts(
    @CurrentPrincipal() p: Principal, @Req() req: HttpRequest, @Query() query: ImportQuery, @Headers('content-type') type?: string,
  ): Promise<ImportDto> {
    if (!type?.startsWith('text/csv')) {
      throw fail(COMMON_ERRORS.UNSUPPORTED_MEDIA_TYPE, 'Send the file as the request body with Content-Type: text/csv.');
    }
    return this.imports.run(p, req.body as Readable, { ...query, id: query.id?.toLowerCase() });
  }

  @Get()
  @ApiOperation({ summary: 'The latest imports, newest first (row errors: read one import)' })
  @ApiOkResponse({ type: [ImportSummaryDto] })
  recent(@CurrentPrincipal() p: Principal, @Query() query: RecentImportsQuery): Promise<ImportSummaryDto[]> {
    return this.imports.recent(p.tenantId, query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Progress while an import runs; counts and row errors afterwards' })
  @ApiOkResponse({ type: ImportDto })
  @ApiErrors('IMPORT_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ImportDto> {
    return this.imports.get(p.tenantId, id);
  }
}
