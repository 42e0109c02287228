import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../common/principal';
import { LinksService } from './links.service';

/** `GET /r/{token}`: a customer's click on a tracked material. Public by nature; an unknown token is a plain 404. */
@ApiExcludeController()
@Public()
@Controller('r')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  @Get(':token')
  async open(@Param('token') token: string, @Res() res: Response): Promise<void> {
    res.redirect(302, await this.links.open(token));
  }
}
