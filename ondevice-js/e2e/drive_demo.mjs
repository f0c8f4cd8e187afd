#!/usr/bin/env node
/**
 * Drives the demo page (`nlpkit serve-demo`) in a real headless Chromium through
 * Playwright (`playwright-core`, no browser download: the system's Chromium).
 *
 *   node e2e/drive_demo.mjs < job.json > result.json
 *
 * The job: {url, chromium?: '/usr/bin/chromium', timeoutMs?: 60000, steps: [...]},
 * each step one of
 *   {type: 'type', text}        types `text` key by key; after each key waits for the
 *                               strip (and the corrections) of the box's new text;
 *                               gives {keystrokes: [{typed, strip}]}
 *   {type: 'press', key}        presses a key (e.g. 'Tab'), waits; gives the state
 *   {type: 'clear'}             empties the box (select all, Backspace), waits
 *   {type: 'click', testid, text}  clicks the element of that data-testid and text
 *   {type: 'state'}             gives {value, strip, corrections}
 *   {type: 'screenshot', path}  saves a PNG of the page
 * The result (stdout, one JSON object): {ready: {loadMs, error}, spelling, errorText,
 * steps: [...], timings, bytes: {total, byType}, requests, pageErrors, failed}.
 * Used by tests/ondevice/test_web_demo.py and benchmarks/browser_demo.py.
 */
import path from 'node:path';
import {withChromium} from './chromium.mjs';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** The box's text, the strip's words, and the misspelled words with their corrections. */
function state(page) {
  return page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    return {
      value: q('query').value,
      strip: [...q('strip').querySelectorAll('[data-testid=suggestion]')].map((b) => b.textContent),
      corrections: Object.fromEntries(
        [...q('corrections').querySelectorAll('[data-testid=correction]')].map((li) => [
          li.dataset.word,
          [...li.querySelectorAll('[data-testid=correction-option]')].map((b) => b.textContent),
        ]),
      ),
      underlined: [...q('underlay').querySelectorAll('mark.misspelled')].map((m) => m.textContent),
    };
  });
}

/** Waits until the strip and the corrections were computed for the box's text (`expected`
 * when given: the text the keys should have made). */
async function settled(page, expected, timeout) {
  await page.waitForFunction(
    (want) => {
      const q = (id) => document.querySelector(`[data-testid="${id}"]`);
      const value = q('query').value;
      return (
        (want === null || value === want) &&
        q('strip').dataset.text === value &&
        q('corrections').dataset.text === value
      );
    },
    expected,
    {timeout, polling: 5},
  );
}

async function step(page, s, timeout) {
  switch (s.type) {
    case 'type': {
      const keystrokes = [];
      let expected = (await state(page)).value;
      for (const char of s.text) {
        expected += char;
        await page.keyboard.type(char);
        await settled(page, expected, timeout);
        keystrokes.push({typed: expected, strip: (await state(page)).strip});
      }
      return {keystrokes};
    }
    case 'press':
      await page.keyboard.press(s.key);
      await settled(page, null, timeout);
      return state(page);
    case 'clear':
      await page.getByTestId('query').fill(''); // fires the input event
      await settled(page, '', timeout);
      return state(page);
    case 'click':
      const exact = new RegExp(`^${s.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      await page.getByTestId(s.testid).filter({hasText: exact}).first().click();
      await settled(page, null, timeout);
      return state(page);
    case 'state':
      return state(page);
    case 'screenshot':
      await page.screenshot({path: s.path, fullPage: true});
      return {path: s.path};
    default:
      throw new Error(`drive_demo: unknown step type ${JSON.stringify(s.type)}`);
  }
}

async function main() {
  const job = await readStdin();
  const timeout = job.timeoutMs ?? 60000;
  const result = {steps: [], requests: [], pageErrors: [], failed: []};
  const browser = {executablePath: job.chromium, timeout, viewport: {width: 900, height: 600}};
  await withChromium(browser, async (context) => {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(timeout);
    page.on('pageerror', (error) => result.pageErrors.push(String(error)));
    page.on('requestfailed', (request) => result.failed.push(request.url()));
    const sizes = [];
    page.on('requestfinished', (request) => {
      sizes.push(
        request.sizes().then((size) => ({
          url: request.url(),
          bytes: size.responseBodySize + size.responseHeadersSize,
        })),
      );
    });
    await page.goto(job.url, {waitUntil: 'load'});
    result.ready = await page.evaluate(() => window.nlpkitDemo.ready);
    result.spelling = await page.evaluate(() => window.nlpkitDemo.spelling);
    result.errorText = await page.getByTestId('error').evaluate((e) => (e.hidden ? null : e.textContent));
    if (result.ready.error === null) {
      for (const s of job.steps ?? []) result.steps.push(await step(page, s, timeout));
    } else {
      for (const s of (job.steps ?? []).filter((s) => s.type === 'screenshot')) await step(page, s, timeout);
    }
    result.timings = await page.evaluate(() => window.nlpkitDemo.timings);
    result.requests = await Promise.all(sizes);
    const byType = {};
    for (const {url, bytes} of result.requests) {
      const ext = path.extname(new URL(url).pathname) || '(none)';
      byType[ext] = (byType[ext] ?? 0) + bytes;
    }
    result.bytes = {total: result.requests.reduce((n, r) => n + r.bytes, 0), byType};
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  process.stderr.write(`drive_demo: ${error.stack ?? error}\n`);
  process.exit(1);
});
