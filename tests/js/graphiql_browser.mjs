// GraphiQL in a real browser (Debian's Chromium, driven by playwright-core), with every request
// that leaves 127.0.0.1 blocked: the page loads, the Docs explorer lists the Query fields, a
// signed-in query runs with the token in the Headers tab, and a subscription over the same
// /graphql URL receives one event. Prints one JSON line of findings and exits 0 when all held.
//
// usage: node graphiql_browser.mjs <base-url> <access-token> <client-id> <screenshot.png>
// Once the subscription is live, the script records an observation for the client over HTTP
// (outside the browser) with the same token, which the subscription must then show.
import { chromium } from 'playwright-core';

const [base, token, clientId, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const local = (url) => {
  try {
    const u = new URL(url);
    return ['127.0.0.1', 'localhost'].includes(u.hostname) || u.protocol === 'data:';
  } catch {
    return url.startsWith('data:') || url.startsWith('blob:');
  }
};

const findings = { blocked: [], cspViolations: [], consoleErrors: [], sockets: [] };
const fail = async (browser, message) => {
  console.log(JSON.stringify({ ok: false, message, ...findings }));
  await browser?.close();
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // Nothing but loopback resolves: a request to any other origin fails at once.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  ],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (local(url)) return route.continue();
  findings.blocked.push(url);
  return route.abort('blockedbyclient');
});
const page = await context.newPage();
page.on('console', (msg) => {
  const text = msg.text();
  if (/Content Security Policy|Refused to/i.test(text)) findings.cspViolations.push(text);
  else if (msg.type() === 'error') findings.consoleErrors.push(text);
});
page.on('websocket', (ws) => findings.sockets.push(ws.url()));

try {
  await page.goto(`${base}/graphql`, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 20000 });

  // The Docs explorer: open it and find the Query type's fields (the schema came over
  // introspection through the same limits every client meets).
  await page.getByRole('button', { name: /documentation explorer/i }).click();
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
  await page.locator('.graphiql-doc-explorer').getByText('facility', { exact: true }).first().waitFor({ timeout: 20000 });
  const docs = await page.locator('.graphiql-doc-explorer').innerText();
  findings.docsListsQueryFields = ['me', 'facility', 'consultation', 'client'].every((f) =>
    new RegExp(`\\b${f}\\b`).test(docs),
  );

  // The editors are CodeMirror 5 instances; set their text as a user would paste it.
  const setEditor = (selector, text) =>
    page.evaluate(
      ([sel, value]) => {
        const cm = document.querySelector(sel)?.CodeMirror;
        if (!cm) throw new Error(`no editor at ${sel}`);
        cm.setValue(value);
      },
      [selector, text],
    );
  await page.getByRole('button', { name: /^headers$/i }).click();
  await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', JSON.stringify({ Authorization: `Bearer ${token}` }));
  const run = async (query) => {
    await setEditor('.graphiql-query-editor .CodeMirror', query);
    // GraphiQL takes the edit into its state a moment later (debounced), as it does for typing.
    await page.waitForTimeout(500);
    await page.getByRole('button', { name: /execute query/i }).click();
  };
  const response = () =>
    page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '');

  await run('query Me { me { role organization { name } } }');
  const shown = (pattern) =>
    page.waitForFunction(
      (p) => new RegExp(p).test(document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? ''),
      pattern,
      { timeout: 20000 },
    );
  await shown('"role"');
  findings.signedInQuery = JSON.parse((await response()).trim()).data?.me?.role ?? null;

  await run('subscription Feed { myEvents { kind client { displayName } } }');
  // Wait until the socket is open and acknowledged, then make the server emit an event.
  for (let i = 0; i < 50 && findings.sockets.length === 0; i++) await page.waitForTimeout(100);
  await page.waitForTimeout(1500);
  const recorded = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }',
      variables: { i: { clientId, content: { fact: '14:10 GraphiQL のテストで記録した。', category: 'ROUTINE', occurredFrom: new Date().toISOString(), visibility: 'CARE_TEAM' } } },
    }),
  }).then((r) => r.json());
  if (!recorded.data?.recordObservation) await fail(browser, `recording failed: ${JSON.stringify(recorded)}`);
  await shown('OBSERVATION_RECORDED');
  findings.subscriptionEvent = JSON.parse((await response()).trim()).data?.myEvents?.kind ?? null;

  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  await fail(browser, String(e?.stack ?? e));
}
await browser.close();
const ok =
  findings.docsListsQueryFields &&
  findings.signedInQuery &&
  findings.subscriptionEvent === 'OBSERVATION_RECORDED' &&
  findings.blocked.length === 0 &&
  findings.cspViolations.length === 0 &&
  findings.sockets.every((u) => new URL(u).pathname === '/graphql');
console.log(JSON.stringify({ ok, ...findings }));
process.exit(ok ? 0 : 1);
