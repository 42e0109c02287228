import { createHash, randomBytes } from 'node:crypto';
import type { WecomCall, WecomServer } from './wecom-server';
import type { WecomMassSendDesk } from './wecom-mass-send';

/**
 * WeCom's temporary media as its server API reference describes it, for one local WeCom (all corporations):
 *
 * - `media/upload?type=image` (素材管理 → 上传临时素材) and `media/upload_attachment?media_type=image&attachment_type=1`
 *   (客户联系 → 上传附件资源, 1 = Moments): multipart/form-data with the file in the field `media` (filename and
 *   content type on the part); answers `type`, `media_id` and `created_at` (seconds, as a string). A media_id is
 *   good for 3 days (`expireAll` ends every one now, as time would).
 * - Refusals: 40004 invalid media type (a `type` / `media_type` other than image), 40005 invalid file type (not a jpg
 *   or png by its bytes), 40009 invalid image size (over 10 MB, or under 5 bytes), 41001-style 40058 for a missing
 *   `media` part or attachment_type, 44001 empty media data.
 * - Attachments named by media_id are checked where they are used: add_msg_template's images must come from
 *   media/upload, add_moment_task's from media/upload_attachment (type 1), both of the same corporation and not
 *   expired (40007 invalid media_id otherwise); add_moment_task takes at most 9 images, or 1 link, or 1 video, never
 *   mixed ('invalid attachments msgtype' / 'invalid attachments size', errcode 40058), and a link there needs its
 *   cover (`link.media_id`, from upload_attachment).
 */
export interface UploadedMedia {
  corpId: string;
  mediaId: string;
  /** upload: media/upload; attachment: media/upload_attachment */
  via: 'upload' | 'attachment';
  sha256: string;
  bytes: number;
  filename: string;
  expiresAt: number;
}

const IMAGE_LIMIT = 10 * 1024 * 1024;
const LIFETIME_S = 3 * 86_400;

const isJpgOrPng = (b: Buffer) => (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff)
  || b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

export class WecomMediaDesk {
  /** every media WeCom holds, in upload order (tests count uploads) */
  readonly media: UploadedMedia[] = [];

  constructor(server: WecomServer, mass: WecomMassSendDesk) {
    server
      .route('/cgi-bin/media/upload', (call) => (call.query.get('type') === 'image'
        ? this.upload(call, 'upload') : { errcode: 40004, errmsg: 'invalid media type' }))
      .route('/cgi-bin/media/upload_attachment', (call) => {
        if (call.secret !== 'contact') return { errcode: 48002, errmsg: 'api forbidden' };
        if (call.query.get('media_type') !== 'image') return { errcode: 40004, errmsg: 'invalid media type' };
        if (call.query.get('attachment_type') !== '1') return { errcode: 40058, errmsg: 'invalid parameter: attachment_type' };
        return this.upload(call, 'attachment');
      });
    mass.checkAttachments = (corpId, use, attachments) => this.check(corpId, use, attachments);
  }

  /** Every media_id expires now (WeCom keeps them 3 days). */
  expireAll(): void {
    for (const m of this.media) m.expiresAt = 0;
  }

  uploadsOf(corpId: string): UploadedMedia[] {
    return this.media.filter((m) => m.corpId === corpId);
  }

  private async upload(call: WecomCall, via: UploadedMedia['via']): Promise<Record<string, unknown>> {
    if (!call.contentType.startsWith('multipart/form-data')) return { errcode: 40058, errmsg: 'invalid parameter: media' };
    // the platform's own multipart parser (undici, as fetch's Request.formData), not a hand-written one
    const form = await new Request('http://local/', { method: 'POST', body: new Uint8Array(call.raw), headers: { 'content-type': call.contentType } })
      .formData().catch(() => null);
    const file = form?.get('media');
    if (!file || typeof file === 'string') return { errcode: 40058, errmsg: 'invalid parameter: media' };
    const bytes = Buffer.from(await file.arrayBuffer());
    if (!bytes.length) return { errcode: 44001, errmsg: 'empty media data' };
    if (!isJpgOrPng(bytes)) return { errcode: 40005, errmsg: 'invalid file type' };
    if (bytes.length < 5 || bytes.length > IMAGE_LIMIT) return { errcode: 40009, errmsg: 'invalid image size' };
    const now = Math.floor(Date.now() / 1000);
    const media: UploadedMedia = {
      corpId: call.corp.corpId, mediaId: `${via === 'upload' ? '3' : '1'}${randomBytes(24).toString('base64url')}`, via,
      sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, filename: file.name, expiresAt: now + LIFETIME_S,
    };
    this.media.push(media);
    return { errcode: 0, errmsg: 'ok', type: 'image', media_id: media.mediaId, created_at: String(now) };
  }

  /** What WeCom says of a template's or Moments task's attachments: null when it takes them. */
  private check(corpId: string, use: 'template' | 'moment', attachments: Record<string, unknown>[]): Record<string, unknown> | null {
    const now = Math.floor(Date.now() / 1000);
    const want = use === 'template' ? 'upload' : 'attachment';
    const known = (id: string) => {
      const m = this.media.find((x) => x.mediaId === id);
      return Boolean(m && m.corpId === corpId && m.via === want && m.expiresAt > now);
    };
    for (const a of attachments) {
      // a Moments link is posted with its cover: link.media_id is required there (not in a template's link)
      const cover = use === 'moment' && a.msgtype === 'link' ? (a.link as { media_id?: string } | undefined)?.media_id : undefined;
      if (use === 'moment' && a.msgtype === 'link' && !cover) return { errcode: 40058, errmsg: 'invalid parameter: link.media_id' };
      if (cover && !known(cover)) return { errcode: 40007, errmsg: 'invalid media_id' };
      if (a.msgtype !== 'image') continue;
      const id = (a.image as { media_id?: string } | undefined)?.media_id;
      if (!id) continue; // a pic_url image (templates) is the mass-send desk's to judge
      if (!known(id)) return { errcode: 40007, errmsg: 'invalid media_id' };
    }
    if (use === 'moment') {
      const kinds = new Set(attachments.map((a) => String(a.msgtype)));
      if (kinds.size > 1) return { errcode: 40058, errmsg: 'invalid attachments msgtype' };
      const [kind] = kinds;
      if (kind && !['image', 'link', 'video'].includes(kind)) return { errcode: 40058, errmsg: 'invalid attachments msgtype' };
      if (attachments.length > (kind === 'image' ? 9 : 1)) return { errcode: 40058, errmsg: 'invalid attachments size' };
    }
    return null;
  }
}
