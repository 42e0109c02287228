import type { ErrorDetail } from '@sop/domain';

/** What WeCom's server API answers (every answer carries errcode; 0 is success). */
interface WecomAnswer {
  errcode: number;
  errmsg?: string;
  access_token?: string;
}

/** WeCom answered, and refused: the error code and which field of ours it names. */
export class WecomRefusal extends Error {
  constructor(readonly detail: ErrorDetail) {
    super(detail.problem);
  }
}

/** WeCom could not be reached or answered something that is not its API. */
export class WecomUnreachable extends Error {}

/** Codes of WeCom's global error list that name a corporation id or a secret. */
const BAD_CORP_ID = new Set([40013]);

/**
 * The few calls of WeCom's server API the connection check makes (gettoken, agent/get), against the
 * configured base (WeCom's, or a local stand-in in tests). Each call has a 5 s budget.
 */
export class WecomApi {
  constructor(private readonly base: string) {}

  private async call(path: string, query: Record<string, string>): Promise<WecomAnswer> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}?${new URLSearchParams(query)}`, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new WecomUnreachable(`WeCom could not be reached: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => null)) as WecomAnswer | null;
    if (!res.ok || !body || typeof body.errcode !== 'number') throw new WecomUnreachable(`WeCom answered ${res.status} without its JSON`);
    return body;
  }

  /** An access token for the corporation and secret; refusals name `corpId` or `secretField`. */
  async token(corpId: string, secret: string, secretField: string): Promise<string> {
    const answer = await this.call('/cgi-bin/gettoken', { corpid: corpId, corpsecret: secret });
    if (answer.errcode !== 0 || !answer.access_token) {
      const path = BAD_CORP_ID.has(answer.errcode) ? 'corpId' : secretField;
      throw new WecomRefusal({ path, problem: `WeCom refused it (errcode ${answer.errcode}: ${answer.errmsg ?? 'no message'})` });
    }
    return answer.access_token;
  }

  /** Checks that the app's token can read the app itself (the AgentId belongs to that secret). */
  async checkAgent(token: string, agentId: string): Promise<void> {
    const answer = await this.call('/cgi-bin/agent/get', { access_token: token, agentid: agentId });
    if (answer.errcode !== 0) {
      throw new WecomRefusal({ path: 'agentId', problem: `WeCom refused it for this app secret (errcode ${answer.errcode}: ${answer.errmsg ?? 'no message'})` });
    }
  }
}
