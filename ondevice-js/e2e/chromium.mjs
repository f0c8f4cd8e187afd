/**
 * Runs `fn(context)` in a headless Chromium through Playwright (`playwright-core`, no
 * browser download: the system's Chromium), with a fresh profile each run, so that
 * nothing is cached from an earlier one (load times, bytes). Shared by the e2e drivers.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';

const ARGS = [
  '--no-sandbox', // as root in CI
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function withChromium({executablePath = '/usr/bin/chromium', timeout = 60000, ...options}, fn) {
  const profile = mkdtempSync(path.join(tmpdir(), 'nlpkit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: false, // '--headless=new' is in ARGS, as given
    args: ARGS,
    timeout,
    ...options,
  });
  try {
    return await fn(context);
  } finally {
    await context.close();
    rmSync(profile, {recursive: true, force: true});
  }
}
