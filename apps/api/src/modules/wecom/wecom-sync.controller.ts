import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../../common/http';
import { ApiErrors } from '../../common/openapi';
import { IdParam } from '../../common/tenant-scope';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { MatchWecomMemberDto, StartWecomSyncDto, WECOM_USER_ID, WecomMemberDto, WecomMemberListDto, WecomSyncRunDto, WecomSyncRunListDto, WecomTagGroupPushDto } from './wecom.dto';
import { WecomSyncService } from './wecom-sync.service';

/** The full sync from WeCom and the members it found (admin). */
@ApiTags('wecom')
@ApiBearerAuth()
@Roles('admin')
@Controller('wecom')
export class WecomSyncController {
  constructor(private readonly sync: WecomSyncService) {}

  @Post('sync')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a full or incremental sync from WeCom (or join the one running)',
    description: 'Members, corp tags, external contacts and customer groups, in a workflow per organization. `kind` full (the default) reads every '
      + 'member\'s customers and every group; incremental only those of members and groups that changed since the last successful sync (a first '
      + 'sync is always full). A second start while one runs answers the running run (header `X-Sync-Joined: true`); a full sync asked while an '
      + 'incremental one runs follows it (header `X-Sync-Queued: full`).',
  })
  @ApiAcceptedResponse({ type: WecomSyncRunDto })
  @ApiErrors('WECOM_NOT_CONNECTED', 'TEMPORAL_UNAVAILABLE')
  async start(@CurrentPrincipal() p: Principal, @Body() dto: StartWecomSyncDto, @Res({ passthrough: true }) res: HttpReply): Promise<WecomSyncRunDto> {
    const { joined, queued, run } = await this.sync.start(p.tenantId, dto.kind);
    void res.header('X-Sync-Joined', String(joined));
    if (queued) void res.header('X-Sync-Queued', queued);
    return run;
  }

  @Get('sync-runs')
  @ApiOperation({ summary: 'The recent sync runs, newest first, with their counts and errors' })
  @ApiOkResponse({ type: WecomSyncRunListDto })
  @ApiErrors('WECOM_NOT_CONNECTED')
  async runs(@CurrentPrincipal() p: Principal): Promise<WecomSyncRunListDto> {
    return { items: await this.sync.runs(p.tenantId) };
  }

  @Get('members')
  @ApiOperation({ summary: 'The corporation\'s members as of the last sync, each with the user it is matched to' })
  @ApiOkResponse({ type: WecomMemberListDto })
  @ApiErrors('WECOM_NOT_CONNECTED')
  async members(@CurrentPrincipal() p: Principal): Promise<WecomMemberListDto> {
    return { items: await this.sync.members(p.tenantId) };
  }

  @Put('members/:wecomUserId')
  @ApiOperation({ summary: 'Match a member to a user by hand (null unmatches); the sync never overrides it' })
  @ApiParam({ name: 'wecomUserId', description: 'The member\'s WeCom UserID', schema: { type: 'string', pattern: WECOM_USER_ID } })
  @ApiOkResponse({ type: WecomMemberDto })
  @ApiErrors('WECOM_NOT_CONNECTED', 'WECOM_MEMBER_NOT_FOUND', 'WECOM_USER_NOT_FOUND')
  match(@CurrentPrincipal() p: Principal, @Param('wecomUserId') wecomUserId: string, @Body() dto: MatchWecomMemberDto): Promise<WecomMemberDto> {
    return this.sync.match(p.tenantId, wecomUserId, dto.userId);
  }

  @Post('tag-groups/:id/push')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create one of our tag groups in WeCom as a corp tag group, with its tags (asked for, never automatic)',
    description: 'Queued and done by the organization\'s WeCom workflow within seconds: the group and its tags are linked to the new corp tag group and tags (a WeCom group of the same name is reused), and the contacts that hold them are marked in WeCom. Once linked, tags created, renamed or deleted in the group follow to WeCom. `queued` false: the group is linked already.',
  })
  @ApiOkResponse({ type: WecomTagGroupPushDto })
  @ApiErrors('WECOM_NOT_CONNECTED', ['TAG_GROUP_NOT_FOUND', 404], 'WECOM_TAG_GROUP_EMPTY')
  pushTagGroup(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<WecomTagGroupPushDto> {
    return this.sync.pushTagGroup(p.tenantId, id);
  }
}
