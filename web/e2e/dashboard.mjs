// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against
// `analisa serve` on a demo world. Every step asserts; the first failure exits non-zero.
//
//   ANALISA_URL=http://127.0.0.1:8080 ANALISA_EMAIL=demo@analisa.dev ANALISA_PASSWORD=… \
//   ANALISA_SCREENSHOTS=../docs/screenshots node e2e/dashboard.mjs

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

const base = process.env.ANALISA_URL ?? 'http://127.0.0.1:8080';
const email = process.env.ANALISA_EMAIL ?? 'demo@analisa.dev';
const password = process.env.ANALISA_PASSWORD;
const shots = process.env.ANALISA_SCREENSHOTS;
assert.ok(password, 'ANALISA_PASSWORD is required');
if (shots) mkdirSync(shots, { recursive: true });

// Headless on a closed network: nothing phones home, no GPU, no sandbox (CI runs as root).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', '--metrics-recording-only', '--disable-domain-reliability'],
});

const problems = [];
function watch(page) {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Expected HTTP failures (wrong password, revoked key) are logged by Chrome as resource errors.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => dialog.accept());
}

let stepName = '';
async function step(name, body) {
  stepName = name;
  const started = Date.now();
  await body();
  console.log(`ok  ${name} (${Date.now() - started} ms)`);
}

async function shot(page, name) {
  if (!shots) return;
  // Charts finish drawing after their data arrives; screenshots wait for the SVGs.
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** The number of points the SVG path of a line series draws. */
async function drawnPoints(page, chart, series = 0) {
  const path = page.locator(`figure[data-chart="${chart}"] .apexcharts-line-series .apexcharts-series`).nth(series).locator('path.apexcharts-line').first();
  await path.waitFor({ state: 'attached' });
  const d = await path.getAttribute('d');
  return (d.match(/[ML]/g) ?? []).length;
}

const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'pt-BR' });
const page = await context.newPage();
watch(page);

try {
  await step('an unauthenticated visit lands on the login page', async () => {
    await page.goto(base + '/influencers');
    await page.waitForURL(/\/login/);
    await page.getByRole('heading', { name: 'Entrar no Analisa' }).waitFor();
  });

  await step('a wrong password gets a clear message', async () => {
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Senha').fill('definitely not the password');
    await page.getByRole('button', { name: 'Entrar', exact: true }).click();
    await assert.doesNotReject(page.getByText('E-mail ou senha incorretos.').waitFor());
  });

  let firstPage;
  await step('logging in opens the search with results', async () => {
    const search = page.waitForResponse((r) => r.url().includes('/v1/influencers?') && r.status() === 200);
    await page.getByLabel('Senha').fill(password);
    await page.getByRole('button', { name: 'Entrar', exact: true }).click();
    await page.waitForURL(/\/influencers/);
    firstPage = await (await search).json();
    assert.ok(firstPage.items.length > 0, 'the demo world has influencers');
    await page.locator('[data-test=results] tbody tr').first().waitFor();
    assert.equal(await page.locator('[data-test=results] tbody tr').count(), firstPage.items.length);
    await page.getByText(`${firstPage.total} influenciadores encontrados`).waitFor();
  });

  await step('the keyboard reaches the skip link first', async () => {
    await page.reload();
    await page.locator('[data-test=results] tbody tr').first().waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
  });

  await shot(page, 'search-1440');

  await step('filters narrow the results and live in a shareable URL', async () => {
    const response = page.waitForResponse((r) => r.url().includes('platform=instagram') && r.url().includes('er_min=0.01'));
    await page.getByRole('checkbox', { name: 'Instagram' }).check();
    await page.getByRole('spinbutton', { name: 'Taxa de engajamento mín.' }).fill('1');
    await page.locator('[data-test=apply]').click();
    const body = await (await response).json();
    await page.waitForURL(/platform=instagram/);
    assert.match(page.url(), /er_min=1(&|$)/, 'the URL keeps percentages');
    assert.ok(body.items.every((i) => i.platform === 'instagram' && i.engagement_rate >= 0.01), 'every result matches the filters');
    assert.ok(body.total < firstPage.total, 'the filters narrowed the results');
    await page.getByText(`${body.total} influenciadores encontrados`).waitFor();
    // The same URL in a new tab shows the same filters.
    const shared = await context.newPage();
    watch(shared);
    await shared.goto(page.url());
    await shared.getByText(`${body.total} influenciadores encontrados`).waitFor();
    assert.equal(await shared.getByRole('checkbox', { name: 'Instagram' }).isChecked(), true);
    await shared.close();
  });

  await step('sorting by a column asks the API for that order', async () => {
    await page.goto(base + '/influencers');
    const response = page.waitForResponse((r) => r.url().includes('sort=-followers'));
    await page.locator('button[data-sort=followers]').click();
    const body = await (await response).json();
    const followers = body.items.map((i) => i.followers);
    assert.deepEqual(followers, [...followers].sort((a, b) => b - a));
    assert.equal(await page.locator('th[aria-sort=descending]').count(), 1);
  });

  await step('the next page follows the cursor', async () => {
    const response = page.waitForResponse((r) => r.url().includes('cursor='));
    await page.locator('[data-test=next]').click();
    const body = await (await response).json();
    assert.ok(body.items.length > 0);
    await page.getByText('Página 2').waitFor();
  });

  let profileId;
  await step('a profile draws as many points as the API history returns', async () => {
    await page.goto(base + '/influencers');
    await page.locator('[data-test=results] tbody tr').first().waitFor();
    const history = page.waitForResponse((r) => r.url().includes('/history'));
    const profile = page.waitForResponse((r) => /\/v1\/influencers\/[^/?]+$/.test(new URL(r.url()).pathname));
    await page.locator('[data-test=results] tbody tr a.handle').first().click();
    const body = await (await history).json();
    const shown = await (await profile).json();
    profileId = body.id;
    assert.ok(body.points.length > 10, 'the demo has history');
    assert.equal(await drawnPoints(page, 'followers'), body.points.length, 'one drawn follower point per day');
    // The forecast: its median line after the history, and both interval bands.
    assert.equal(shown.forecast.points.length, 90, 'the pipeline forecast 90 days');
    assert.equal(await drawnPoints(page, 'followers', 1), shown.forecast.points.length, 'one drawn forecast point per day');
    assert.equal(await page.locator('figure[data-chart="followers"] .apexcharts-rangeArea-series .apexcharts-series').count(), 2, 'the 80% and 95% bands');
    await page.getByText(`Previsão: modelo ${shown.forecast.model_version}`).waitFor();
    // The comment sentiment: split, net value with its sample, weekly trend.
    assert.ok(shown.sentiment.sample_size > 0, 'the pipeline scored the comments');
    const split = await page.locator('[data-test=sentiment-split]').getAttribute('aria-label');
    assert.match(split, /\d+% positivos/);
    assert.equal(await drawnPoints(page, 'sentiment'), shown.sentiment.trend.length, 'one drawn point per week of comments');
    await page.locator('[data-test=posts] [data-test=caption-sentiment]').first().waitFor();
    assert.equal(await drawnPoints(page, 'er'), body.points.filter((p) => p.er_daily !== null).length, 'one drawn ER point per day with posts');
    await page.locator('[data-test=score]').getByRole('rowheader', { name: 'Engajamento' }).waitFor();
    assert.ok((await page.locator('[data-test=posts] tbody tr').count()) > 0, 'posts are listed');
    await page.locator('[data-test=benchmarks]').waitFor();
  });

  await shot(page, 'profile-1440');

  await step('switching to English translates the page and back', async () => {
    await page.locator('[data-test=lang-switch]').click();
    await page.getByRole('heading', { name: 'Followers over time' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.locator('[data-test=lang-switch]').click();
    await page.getByRole('heading', { name: 'Seguidores ao longo do tempo' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'pt-BR');
  });

  let compared;
  await step('three influencers compare side by side with the best value highlighted', async () => {
    await page.goto(base + '/influencers');
    await page.locator('[data-test=results] tbody tr').nth(2).waitFor();
    for (const n of [0, 1, 2]) await page.locator('[data-test=select]').nth(n).check();
    const response = page.waitForResponse((r) => r.url().includes('/v1/compare'));
    await page.locator('[data-test=compare]').click();
    compared = await (await response).json();
    await page.waitForURL(/\/compare\?ids=/);
    assert.equal(compared.items.length, 3);
    assert.equal(await page.locator('[data-test=compare-table] thead th').count(), 4);
    assert.ok((await page.locator('[data-test=compare-table] td.best').count()) >= 1, 'a best value is highlighted');
    for (let s = 0; s < 3; s++) assert.equal(await drawnPoints(page, 'compare-followers', s), compared.items[s].history.length);
  });

  await shot(page, 'compare-1440');

  await step('an API key is shown once, works, and stops working when revoked', async () => {
    const name = `e2e key ${Date.now()}`;
    await page.goto(base + '/settings');
    await page.getByLabel('Nome da chave').fill(name);
    await page.locator('[data-test=create-key]').click();
    const key = (await page.locator('[data-test=new-key] code').textContent()).trim();
    assert.match(key, /^ak_/);
    const ok = await page.request.get(base + '/v1/influencers?limit=1', { headers: { 'x-api-key': key } });
    assert.equal(ok.status(), 200);
    await page.locator(`tr[data-key="${name}"] [data-test=revoke]`).click();
    await page.locator(`tr[data-key="${name}"]`).getByText('revogada').waitFor();
    const refused = await page.request.get(base + '/v1/influencers?limit=1', { headers: { 'x-api-key': key } });
    assert.equal(refused.status(), 401);
  });

  await step('a platform account is connected through its OAuth consent page and disconnected', async () => {
    await page.goto(base + '/settings');
    await page.locator('#connect-platform').selectOption('instagram');
    await page.getByRole('button', { name: 'Conectar conta' }).click();
    // The simulated Instagram Login consent page approves at once and sends the browser back with a code.
    await page.waitForURL(/\/settings\/connections\/callback\/instagram\?/);
    const done = (await page.locator('[data-test=connected]').textContent()).trim();
    const account = done.match(/^Conta (\S+) \(Instagram\) conectada\.$/)?.[1];
    assert.ok(account, done);
    // The same answer sent again is refused: its state was single-use.
    await page.reload();
    await page.getByRole('alert').waitFor();
    await page.getByRole('link', { name: 'Voltar às configurações' }).click();
    const row = page.locator(`tr[data-connection="instagram:${account}"]`);
    await row.getByText('ativa').waitFor();
    await row.locator('[data-test=disconnect]').click();
    await row.waitFor({ state: 'detached' });
  });

  await step('an invitation link lets another user join the organisation', async () => {
    const invitee = `convidada+${Date.now()}@example.com`;
    const registered = await page.request.post(base + '/v1/auth/register', {
      data: { email: invitee, password: 'another long password', display_name: 'Convidada', organisation: 'Outra Agência' },
    });
    assert.equal(registered.status(), 201);
    await page.goto(base + '/settings');
    await page.locator('#invite-email').fill(invitee);
    await page.locator('#invite-role').selectOption('viewer');
    await page.getByRole('button', { name: 'Convidar' }).click();
    const link = (await page.locator('code.secret').first().textContent()).trim();
    assert.match(link, /\/accept\?token=/);
    const other = await browser.newContext();
    const tab = await other.newPage();
    watch(tab);
    await tab.goto(link);
    await tab.waitForURL(/\/login/);
    await tab.getByLabel('E-mail').fill(invitee);
    await tab.getByLabel('Senha').fill('another long password');
    await tab.getByRole('button', { name: 'Entrar', exact: true }).click();
    await tab.waitForURL(/\/accept\?token=/);
    await tab.getByRole('button', { name: 'Aceitar e entrar na organização' }).click();
    await tab.getByText('Agora você faz parte de Agência Demo.').waitFor();
    await other.close();
    await page.reload();
    await page.getByRole('cell', { name: invitee }).first().waitFor();
  });

  await step('a flag shows its evidence and can be disputed', async () => {
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('analisa.session')).accessToken);
    const found = await page.request.post(base + '/v1/sql', {
      headers: { authorization: `Bearer ${token}` },
      data: { sql: 'SELECT platform, account_id, flag_id FROM gold.anomaly_flags WHERE penalised ORDER BY flag_id LIMIT 1' },
    });
    assert.equal(found.status(), 200);
    const [flag] = await found.json();
    assert.ok(flag, 'the demo world has a penalised flag');
    await page.goto(`${base}/influencers/${encodeURIComponent(`${flag.platform}:${flag.account_id}`)}`);
    const card = page.locator('[data-test=flags] article').first();
    await card.locator('dl.evidence div').first().waitFor();
    await card.getByRole('button', { name: 'Contestar' }).click();
    await card.getByLabel('Motivo da contestação').fill('The spike came from a TV appearance on 20/11.');
    await card.getByRole('button', { name: 'Enviar contestação' }).click();
    await card.getByText('Contestação enviada: em análise.').waitFor();
    // The status survives a reload: it comes from the API, not the page's memory.
    await page.reload();
    await page.locator('[data-test=dispute-status]').first().waitFor();
  });

  await step('a report is defined, run now, and its file downloaded', async () => {
    await page.goto(base + '/reports');
    await page.getByLabel('Nome').fill('Relatório semanal e2e');
    await page.getByRole('button', { name: 'Criar relatório' }).click();
    const card = page.locator('section[data-report="Relatório semanal e2e"]');
    await card.waitFor();
    await card.locator('[data-test=run-report]').click();
    await card.locator('tr[data-status=succeeded]').waitFor({ timeout: 60_000 });
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'summary.csv' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'summary.csv');
    const text = await (await import('node:fs/promises')).readFile(await file.path(), 'utf8');
    assert.match(text, /^platform,account_id,handle,/);
  });

  await step('the tracked lists of the organisation are shown', async () => {
    await page.goto(base + '/lists');
    await page.getByRole('heading', { name: /Favoritos/ }).waitFor();
  });

  await step('on a 390 px phone the pages fit the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, storageState: await context.storageState() });
    const mobile = await phone.newPage();
    watch(mobile);
    for (const [name, path, ready] of [
      ['search-390', '/influencers', '[data-test=results] tbody tr'],
      ['profile-390', `/influencers/${encodeURIComponent(profileId)}`, 'figure[data-chart=followers] path.apexcharts-line'],
      ['compare-390', `/compare?ids=${compared.items.map((c) => c.influencer.id).join(',')}`, 'figure[data-chart=compare-followers] path.apexcharts-line'],
    ]) {
      await mobile.goto(base + path);
      await mobile.locator(ready).first().waitFor({ state: 'attached' });
      const width = await mobile.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${path} is ${width} px wide on a 390 px screen`);
      await shot(mobile, name);
    }
    await phone.close();
  });

  await step('an expired session that cannot refresh returns to the login with a message', async () => {
    const stale = await browser.newContext();
    const tab = await stale.newPage();
    watch(tab);
    await tab.goto(base + '/login');
    await tab.evaluate(() => localStorage.setItem('analisa.session', JSON.stringify({ accessToken: 'expired', refreshToken: 'rt_revoked', expiresAt: 0 })));
    await tab.goto(base + '/influencers');
    await tab.waitForURL(/reason=expired/);
    await tab.getByText('Sua sessão expirou. Entre novamente para continuar.').waitFor();
    await stale.close();
  });

  await step('a Facebook account is linked in Settings for signing in', async () => {
    await page.goto(base + '/settings');
    const row = page.locator('tr[data-identity="facebook"]');
    await row.getByText('Não vinculada').waitFor();
    await row.locator('[data-test=link]').click();
    // The simulated Facebook Login approves at once and sends the browser back with a code.
    await page.waitForURL(/\/settings\/identities\/callback\/facebook\?/);
    await page.locator('[data-test=linked]').getByText('Pronto: agora você pode entrar com Facebook.').waitFor();
    await page.getByRole('link', { name: 'Voltar às configurações' }).click();
    await page.locator('tr[data-identity="facebook"]').getByText('Vinculada', { exact: true }).waitFor();
  });

  await step('signing out ends the session on the server too', async () => {
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('analisa.session')).accessToken);
    await page.goto(base + '/influencers');
    await page.locator('[data-test=logout]').click();
    await page.getByText('Você saiu da sua conta.').waitFor();
    const after = await page.request.get(base + '/v1/me', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(after.status(), 401);
    await page.goto(base + '/influencers');
    await page.waitForURL(/\/login/);
  });

  await step('signing in with the linked Facebook account opens the app', async () => {
    await page.getByRole('button', { name: 'Entrar com Facebook' }).click();
    await page.waitForURL(/\/influencers/);
    await page.locator('[data-test=results] tbody tr').first().waitFor();
    const me = await page.evaluate(async () => {
      const token = JSON.parse(localStorage.getItem('analisa.session')).accessToken;
      return (await fetch('/v1/me', { headers: { authorization: `Bearer ${token}` } })).json();
    });
    assert.equal(me.email, email);
  });

  assert.deepEqual(problems, [], 'the pages logged no errors');
  console.log('dashboard: every step passed');
} catch (error) {
  console.error(`FAILED at "${stepName}": ${error.stack ?? error}`);
  if (problems.length) console.error(problems.join('\n'));
  const failure = `${process.env.ANALISA_ARTIFACTS ?? tmpdir()}/analisa-dashboard-failure.png`;
  await page.screenshot({ path: failure, fullPage: true }).then(() => console.error(`screenshot of the failure: ${failure}`)).catch(() => undefined);
  process.exitCode = 1;
} finally {
  await browser.close();
}
