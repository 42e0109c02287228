import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags,
} from '@nestjs/swagger';
import { headerOf, type HttpReply, type HttpRequest } from '../../common/http';
import { idempotencyKey } from '../../common/idempotency';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import {
  CreateMaterialDto, LibraryMaterialDetailDto, LibraryMaterialDto, MaterialFolderDto, MaterialInputDto, LibraryMaterialPageDto, MaterialQuery, LibraryMaterialUpdatedDto,
  UpdateMaterialQuery,
} from './materials.dto';
import { MaterialsService } from './materials.service';

const DESIGNERS = ['admin', 'ops'] as const;

@ApiTags('materials')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('materials')
export class MaterialsController {
  constructor(private readonly materials: MaterialsService) {}

  @Post()
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Add a material to the library. 201 when made, 200 when this id or Idempotency-Key made one before (its first result)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Instead of an id in the body: a repeat answers the first material' })
  @ApiCreatedResponse({ type: LibraryMaterialDto, description: 'Made' })
  @ApiOkResponse({ type: LibraryMaterialDto, description: 'This id or Idempotency-Key made it before' })
  @ApiErrors(['VALIDATION_FAILED', 422], 'MATERIAL_ID_REUSED')
  async create(
    @CurrentPrincipal() p: Principal, @Body() dto: CreateMaterialDto, @Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpReply,
  ): Promise<LibraryMaterialDto> {
    // read from the request rather than @Headers(name), which would document the header as required
    const { created, material } = await this.materials.create(p, dto, idempotencyKey(headerOf(req, 'idempotency-key')));
    res.status(created ? 201 : 200);
    return material;
  }

  @Get()
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'The library, newest first (keyset pages): search titles and summaries, by folder and kind; each with its use and opens' })
  @ApiOkResponse({ type: LibraryMaterialPageDto })
  @ApiErrors(['VALIDATION_FAILED', 400])
  list(@CurrentPrincipal() p: Principal, @Query() q: MaterialQuery): Promise<LibraryMaterialPageDto> {
    return this.materials.list(p.tenantId, q);
  }

  @Get('folders')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: "The library's folders with how many materials each holds" })
  @ApiOkResponse({ type: [MaterialFolderDto] })
  folders(@CurrentPrincipal() p: Principal): Promise<MaterialFolderDto[]> {
    return this.materials.folders(p.tenantId);
  }

  @Get(':id')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'A material with how often its tracked links were opened, and (admins and ops) where it is used: SOP, version, step' })
  @ApiOkResponse({ type: LibraryMaterialDetailDto })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<LibraryMaterialDetailDto> {
    return this.materials.get(p.tenantId, id, (DESIGNERS as readonly string[]).includes(p.role));
  }

  @Put(':id')
  @Roles(...DESIGNERS)
  @ApiOperation({
    summary: 'Replace a material; ?republish=true also publishes a new version of each active or paused SOP that picks it',
    description: 'Published versions keep what they were published with. Without republish, SOPs take the new content at their next edit or activation. An SOP whose own checks refuse its new version is listed in notRepublished; the others publish.',
  })
  @ApiOkResponse({ type: LibraryMaterialUpdatedDto })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404], ['VALIDATION_FAILED', 422])
  update(
    @CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: MaterialInputDto, @Query() q: UpdateMaterialQuery,
  ): Promise<LibraryMaterialUpdatedDto> {
    return this.materials.update(p, id, dto, q.republish ?? false);
  }

  @Delete(':id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove from the library; refused while an SOP that is not archived picks it' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404], 'MATERIAL_IN_USE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.materials.remove(p.tenantId, id);
  }
}
