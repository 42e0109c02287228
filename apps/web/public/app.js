// Minimal dashboard shell: login, who am I, Chinese and English. Grows with the product.
const TEXT = {
  zh: { docs: 'API 文档', welcome: '欢迎回来', tagline: '为运营、员工和主管设计的 SOP 触达引擎', email: '邮箱', password: '密码',
    signin: '登录', hello: '你好', organization: '组织', role: '角色', signout: '退出登录', other: 'English',
    roles: { admin: '管理员', ops: '运营', manager: '主管', employee: '员工' },
    errors: { INVALID_CREDENTIALS: '邮箱或密码错误。', RATE_LIMITED: '尝试次数过多，请一分钟后再试。', VALIDATION_FAILED: '请填写有效的邮箱和密码。' } },
  en: { docs: 'API docs', welcome: 'Welcome back', tagline: 'The SOP outreach engine for ops, employees and managers', email: 'Email',
    password: 'Password', signin: 'Sign in', hello: 'Hello', organization: 'Organization', role: 'Role', signout: 'Sign out', other: '中文',
    roles: { admin: 'Admin', ops: 'Operations', manager: 'Manager', employee: 'Employee' },
    errors: { INVALID_CREDENTIALS: 'The email or password is wrong.', RATE_LIMITED: 'Too many attempts: wait a minute and try again.', VALIDATION_FAILED: 'Enter a valid email and password.' } },
};
let lang = localStorage.getItem('lang') || (navigator.language.startsWith('zh') ? 'zh' : 'en');
let me = null;
const $ = (id) => document.getElementById(id);

function render() {
  const t = TEXT[lang];
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t[el.dataset.i18n]));
  $('lang').textContent = t.other;
  $('login-card').hidden = Boolean(me);
  $('me-card').hidden = !me;
  if (me) {
    $('me-name').textContent = me.name || me.email || 'API key';
    $('me-org').textContent = me.organization;
    $('me-role').textContent = t.roles[me.role] || me.role;
  }
}

async function loadMe() {
  const token = sessionStorage.getItem('token');
  if (!token) return render();
  const res = await fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } });
  me = res.ok ? await res.json() : null;
  if (!res.ok) sessionStorage.removeItem('token');
  render();
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const res = await fetch('/api/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
  });
  const body = await res.json();
  $('error').hidden = res.ok;
  // Known error codes read in the page's language; anything else shows the server's message.
  if (!res.ok) return ($('error').textContent = TEXT[lang].errors[body.code] || body.message);
  sessionStorage.setItem('token', body.accessToken);
  loadMe();
});
$('logout').addEventListener('click', () => { sessionStorage.removeItem('token'); me = null; render(); });
$('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lang', lang); render(); });
loadMe();
