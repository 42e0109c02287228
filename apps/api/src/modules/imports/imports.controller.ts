import { Controller, Get, Headers, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AppError } from '@sop/domain';
import type { Request } from 'express';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CONTACT_COLUMNS } from './contact-row';
import { ContactImportService, type ImportDto } from './contact-import.service';

@ApiTags('imports')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('imports')
export class ImportsController {
  constructor(private readonly imports: ContactImportService) {}

  @Post('contacts')
  @ApiConsumes('text/csv')
  @ApiBody({ description: `UTF-8 CSV with a header row. Columns: ${CONTACT_COLUMNS.join(', ')}, and attr.<key> for attributes. ` +
    'tags: names separated by |, as "Group:Tag" when a name repeats. Rows are upserted by external_id.' })
  @ApiOperation({ summary: 'Import contacts from CSV (streamed); bad rows are reported, valid rows kept' })
  contacts(@CurrentPrincipal() p: Principal, @Req() req: Request, @Headers('content-type') type?: string): Promise<ImportDto> {
    if (!type?.startsWith('text/csv')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the file as the request body with Content-Type: text/csv.');
    }
    return this.imports.run(p, req);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Progress while an import runs; counts and row errors afterwards' })
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ImportDto> {
    return this.imports.get(p.tenantId, id);
  }
}
