// Drives Debian's Chromium through a rex scheduler's web UI, as WebUiBrowserTest asks:
//   node ui-check.mjs <config.json>
// config: {base, token, screenshots, doneFile, failingText, outputText, outputName, worker}
// While the build runs (until doneFile exists) it watches the overview fill with actions; then it
// checks the pages, a failing action's stderr, an output's download and drain / undrain from the
// UI. It prints one JSON line of what it saw, and exits non-zero on the first thing that is wrong.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const seen = { consoleErrors: [], steps: [] };
const step = (name) => { seen.steps.push(name); console.error('ui-check: ' + name); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (message) => { if (message.type() === 'error') seen.consoleErrors.push(message.text()); });
  page.on('pageerror', (error) => seen.consoleErrors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) seen.consoleErrors.push(response.status() + ' ' + response.url());
  });
  page.on('dialog', (dialog) => dialog.accept());

  step('log in with the token from the address rex local printed');
  await page.goto(config.base + '/ui/login#token=' + config.token);
  await page.waitForURL(config.base + '/ui/');
  await page.locator(`#workers tr[data-worker="${config.worker}"]`).waitFor();

  step('the overview fills with actions while the build runs');
  await page.locator('#actions tbody tr a').first().waitFor({ timeout: 240000 });
  seen.actionsWhileBuilding = await page.locator('#actions tbody tr a').count();
  seen.buildStillRunning = !fs.existsSync(config.doneFile);
  // The build, by Bazel's invocation id, among the builds in flight (before it ends).
  while (!fs.existsSync(config.doneFile) && !seen.buildInFlight) {
    if (await page.locator('#builds tbody tr a').count() > 0) {
      seen.buildInFlight = await page.locator('#builds tbody tr').first().innerText();
    }
    await sleep(200);
  }
  while (!fs.existsSync(config.doneFile)) await sleep(200);
  await sleep(2500); // two refreshes after the build ended
  await page.screenshot({ path: path.join(config.screenshots, 'ui-overview.png'), fullPage: true });
  seen.actionsAfterBuild = await page.locator('#actions tbody tr a').count();
  seen.workerRow = (await page.locator(`#workers tr[data-worker="${config.worker}"]`).innerText()).replace(/\s+/g, ' ');

  step('the failing test, found by its outcome, shows its stderr');
  await page.selectOption('#filters select[name=outcome]', 'exit_nonzero');
  await page.waitForFunction(() => document.querySelectorAll('#actions tbody tr.outcome-exit_nonzero').length > 0
    && document.querySelectorAll('#actions tbody tr:not(.outcome-exit_nonzero) a').length === 0);
  await page.locator('#actions tbody tr.outcome-exit_nonzero a').first().click();
  await page.waitForURL(/\/ui\/action\?/);
  await page.locator('#summary .card').first().waitFor();
  await page.waitForFunction(() => document.getElementById('stderr').textContent.length > 0);
  seen.failingStderr = await page.locator('#stderr').innerText();
  seen.failingStdout = await page.locator('#stdout').innerText();
  seen.failingOutcome = await page.locator('#summary .state').first().innerText();
  await page.screenshot({ path: path.join(config.screenshots, 'ui-action.png'), fullPage: true });
  await page.locator('#inputs button').first().click();
  await page.locator('#inputs ul.tree li').first().waitFor();
  seen.inputTreeEntries = await page.locator('#inputs ul.tree li').count();

  step('an output downloads with the bytes the action wrote');
  await page.goto(config.base + '/ui/?outcome=success');
  const producer = page.locator('#actions tbody tr', { hasText: config.outputText }).locator('a').first();
  await producer.waitFor();
  await producer.click();
  await page.waitForURL(/\/ui\/action\?/);
  const link = page.locator('#outputs a', { hasText: 'download' }).first();
  await link.waitFor();
  seen.outputPath = await page.locator('#outputs tbody tr td').first().innerText();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  seen.downloadName = download.suggestedFilename();
  seen.downloaded = fs.readFileSync(await download.path(), 'utf8');

  step('drain from the UI, then undrain');
  await page.goto(config.base + '/ui/');
  const row = page.locator(`#workers tr[data-worker="${config.worker}"]`);
  await row.locator('button.drain').click();
  await row.locator('.state.draining, .state.drained').waitFor({ timeout: 60000 });
  seen.stateAfterDrain = await row.locator('.state').innerText();
  await row.locator('button.undrain').click();
  await row.locator('.state.up').waitFor({ timeout: 60000 });
  seen.stateAfterUndrain = await row.locator('.state').innerText();

  step('a phone-sized screen shows the same overview');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(config.base + '/ui/');
  await row.waitFor();
  seen.phoneWidthScrolls = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
