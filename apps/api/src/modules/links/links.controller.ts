import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import type { HttpReply, HttpRequest } from '../../common/http';
import { Public } from '../../common/principal';
import { LinksService } from './links.service';

/** `GET /r/{token}`: a customer's click on a tracked material. Public by nature; an unknown token is a plain 404. */
@ApiTags('links')
@Public()
@Controller('r')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  @Get(':token')
  @ApiOperation({
    summary: "A customer opens a tracked material: the response is recorded and the material's tags applied, then a redirect to it. " +
      'Not counted: HEAD requests, link-preview and mail-scanner user agents, and opens within 30 s of the executor copying the link',
  })
  @ApiParam({ name: 'token', description: 'From a task\'s materials[].trackedPath' })
  @ApiFoundResponse({
    description: 'Redirects to the material',
    headers: { Location: { description: "The material's URL", schema: { type: 'string' } } },
  })
  @ApiErrors('LINK_NOT_FOUND')
  async open(@Param('token') token: string, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const location = await this.links.open(token, { method: req.method, userAgent: req.headers['user-agent'] });
    void res.header('Cache-Control', 'no-store').redirect(location, 302);
  }
}
