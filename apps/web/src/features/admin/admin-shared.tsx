import { CopyOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery, type QueryKey } from '@tanstack/react-query';
import { Button, Form, Input, Select, Space, Tag, Tooltip, type FormInstance, type SelectProps } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, call } from '../../api/client';
import type { Page, Role, User } from '../../api/models';
import { addMessages, i18n } from '../../i18n';
import { applyFieldErrors, errorText, namePath } from '../../lib/errors';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

export const ROLES: Role[] = ['admin', 'ops', 'manager', 'employee'];
/** The API's minimum password length (auth.dto PASSWORD_MIN). */
export const PASSWORD_MIN = 10;

/** A refusal in words: this feature's text for the codes its routes answer, else the shared catalog's. */
export function refusal(error: unknown): string {
  if (error instanceof ApiError && i18n.exists(`admin:errors.${error.code}`)) return i18n.t(`admin:errors.${error.code}`);
  return errorText(error);
}

/**
 * Puts a refusal's details at the fields they name (in this feature's words when its code has text here,
 * e.g. EMAIL_TAKEN at the email field) and returns what is left to show above the buttons: nothing when
 * every detail found its field, else the refusal in words and the details no field took.
 */
export function fieldProblems(form: FormInstance, error: unknown): string[] {
  const rest = applyFieldErrors(form, error);
  if (!(error instanceof ApiError)) return [refusal(error)];
  const known = i18n.exists(`admin:errors.${error.code}`);
  const placed = error.details.filter((d) => d.path && !rest.some((r) => r.startsWith(`${d.path}: `)));
  if (known) form.setFields(placed.map((d) => ({ name: namePath(d.path), errors: [refusal(error)] })));
  return placed.length > 0 && rest.length === 0 ? [] : [refusal(error), ...rest];
}

/** 16 letters and digits in four groups (about 90 bits), without look-alikes (0/O, 1/l/I) so it can be read out. */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  const out: string[] = [];
  const bytes = new Uint8Array(1);
  while (out.length < 16) {
    crypto.getRandomValues(bytes);
    if (bytes[0] < 256 - (256 % alphabet.length)) out.push(alphabet[bytes[0] % alphabet.length]);
  }
  return [0, 4, 8, 12].map((i) => out.slice(i, i + 4).join('')).join('-');
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed (plain http). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

/** A read-only value with a copy button beside it (secrets shown once, generated passwords). */
export function CopyField({ value, label, copyLabel, testId }: { value: string; label: string; copyLabel?: string; testId?: string }) {
  const { t } = useTranslation();
  const message = useMessage();
  const copy = copyLabel ?? `${t('actions.copy')} ${label}`;
  return (
    <Space.Compact style={{ width: '100%' }}>
      <Input readOnly value={value} aria-label={label} data-testid={testId} className="admin-secret" onFocus={(e) => e.target.select()} />
      <Tooltip title={copy}>
        <Button icon={<CopyOutlined />} aria-label={copy} onClick={() => void copyText(value).then(() => message.success(t('actions.copied')))}>
          {t('actions.copy')}
        </Button>
      </Tooltip>
    </Space.Compact>
  );
}

/** A password field with a "generate" button: the generated password stays visible so it can be handed over. */
export function PasswordField({ name, label }: { name: string; label: string }) {
  const { t } = useTranslation('admin');
  const form = Form.useFormInstance();
  const [visible, setVisible] = useState(false);
  return (
    <Form.Item label={label} required extra={t('password.help')}>
      <Space.Compact style={{ width: '100%' }}>
        <Form.Item
          name={name}
          noStyle
          rules={[{ required: true, min: PASSWORD_MIN, message: t('password.min', { n: PASSWORD_MIN }) }]}
        >
          <Input.Password
            autoComplete="new-password"
            aria-label={label}
            visibilityToggle={{ visible, onVisibleChange: setVisible }}
          />
        </Form.Item>
        <Button
          icon={<ThunderboltOutlined />}
          onClick={() => {
            form.setFieldValue(name, generatePassword());
            setVisible(true);
            void form.validateFields([name]);
          }}
        >
          {t('password.generate')}
        </Button>
      </Space.Compact>
    </Form.Item>
  );
}

/** Roles in colours whose text keeps 4.5:1 contrast on their tag background. */
const ROLE_COLOURS: Record<Role, string | undefined> = { admin: 'magenta', ops: 'geekblue', manager: 'purple', employee: undefined };

export function RoleTag({ role }: { role: Role }) {
  const { t } = useTranslation();
  return <Tag color={ROLE_COLOURS[role]}>{t(`roles.${role}`)}</Tag>;
}

export function RoleSelect(props: Omit<SelectProps<Role>, 'options'>) {
  const { t } = useTranslation('admin');
  return (
    <Select<Role>
      options={ROLES.map((r) => ({
        value: r,
        label: t(`common:roles.${r}`),
        title: t(`users.roleHelp.${r}`),
      }))}
      optionRender={(o) => (
        <Space direction="vertical" size={0}>
          <span>{o.label}</span>
          <span className="admin-option-help">{t(`users.roleHelp.${o.value}`)}</span>
        </Space>
      )}
      {...props}
    />
  );
}

/**
 * People who may manage a team: active managers and admins, searched by name or email
 * (the directory filters one role at a time, so both are asked and merged).
 */
export function ManagerSelect(props: Omit<SelectProps<string>, 'options'>) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const search = q || undefined;
  const managers = useDirectory({ role: 'manager', q: search });
  const admins = useDirectory({ role: 'admin', q: search });
  const chosen = typeof props.value === 'string' ? props.value : undefined;
  const people = [...(managers.data ?? []), ...(admins.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const chosenUser = useUser(chosen && !people.some((u) => u.id === chosen) ? chosen : undefined);
  const shown = chosenUser.data ? [chosenUser.data, ...people] : people;
  return (
    <Select<string>
      showSearch={{ filterOption: false, onSearch: setQ }}
      loading={managers.isFetching || admins.isFetching}
      allowClear
      options={shown.map((u) => ({ value: u.id, label: `${u.name} · ${t(`roles.${u.role}`)}` }))}
      {...props}
    />
  );
}

function useDirectory(filter: { role: Role; q?: string }) {
  return useQuery({
    queryKey: ['users', 'directory', filter],
    queryFn: async (): Promise<User[]> => (await call(api.GET('/api/users', { params: { query: { limit: 50, active: true, ...filter } } }))).items,
    placeholderData: (previous) => previous,
  });
}

function useUser(id: string | undefined) {
  return useQuery({
    queryKey: ['user', id],
    enabled: Boolean(id),
    queryFn: () => call(api.GET('/api/users/{id}', { params: { path: { id: id! } } })),
  });
}

/** A keyset-paged list ("load more" asks for the next page); `flat` is every row loaded so far. */
export function useKeysetList<T>(key: QueryKey, fetchPage: (cursor?: string) => Promise<Page<T>>, { enabled = true } = {}) {
  const query = useInfiniteQuery({
    queryKey: key,
    enabled,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: (previous) => previous,
  });
  return { ...query, rows: query.data?.pages.flatMap((p) => p.items) ?? [] };
}
