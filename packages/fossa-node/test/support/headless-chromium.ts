import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// The page tests drive Debian's chromium through playwright-core. A missing browser fails the
// test loudly (never a skip): scripts/ensure-test-tools.sh installs it.

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `Debian's chromium is missing at ${CHROMIUM_PATH}: the page tests need it (run scripts/ensure-test-tools.sh, or apt-get install -y --no-install-recommends chromium)`,
    );
  // --no-sandbox: the tests may run as root, where chromium refuses its sandbox.
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox'],
    headless: true,
    timeout: 60_000,
  });
}
