import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { readProcessEnv } from '../../src/common/config/app-config';
import { png } from '../fixtures/media-files';
import { WEB_DIR, ensureWebClientBuilt, launchChromium, signInThroughPage } from '../utils/browser';
import { uniquePhone } from '../utils/clients';
import { startTestApp, type TestApp } from '../utils/test-app';

type Person = { context: BrowserContext; page: Page; phone: string };

// The steps build on each other (the same three people throughout), so they run in order.
let t: TestApp;
let browser: Browser;
const people = {} as Record<'alice' | 'bob' | 'carol', Person>;
const cspViolations: string[] = [];
/** UPDATE_SCREENSHOTS=1 rewrites docs/web-client/*.png from this run. */
const screenshotDir = readProcessEnv('UPDATE_SCREENSHOTS')
  ? join(__dirname, '..', '..', 'docs', 'web-client')
  : undefined;

async function shot(page: Page, name: string): Promise<void> {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

beforeAll(async () => {
  ensureWebClientBuilt();
  t = await startTestApp({ env: { WEB_DIR, PRESENCE_GRACE_MS: '300' } });
  browser = await launchChromium();
  for (const name of ['alice', 'bob', 'carol'] as const) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    people[name] = { context, page, phone: uniquePhone() };
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const chatItem = (page: Page, name: string) =>
  page.getByRole('button', { name: new RegExp(`^${name}`) });
const messages = (page: Page) => page.getByRole('list', { name: 'Messages' });
const tick = (page: Page, state: string) =>
  page.locator(`.message.mine .tick[data-tick="${state}"]`).last();

describe('web client in Chromium', () => {
  it('is served at / with a strict Content-Security-Policy and says the test code is on', async () => {
    const response = await fetch(`${t.url}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await response.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    const { page } = people.alice;
    await page.goto(t.url);
    expect(await page.getByRole('note').textContent()).toContain('AUTH_TEST_OTP');
    await shot(page, 'sign-in');
  });

  it('lets two people sign in and chat, with ticks that turn to read', async () => {
    const { alice, bob } = people;
    await signInThroughPage(alice.page, t.url, alice.phone, 'Alice');
    await signInThroughPage(bob.page, t.url, bob.phone, 'Bob');

    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Their phone number').fill(bob.phone);
    await alice.page.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.getByRole('textbox', { name: 'Message' }).fill('Hi Bob!');
    await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    // Bob's page is connected, so his client acks delivery at once.
    await tick(alice.page, 'delivered').waitFor();

    await chatItem(bob.page, 'Alice, 1 unread').waitFor();
    await chatItem(bob.page, 'Alice').click();
    await messages(bob.page).getByText('Hi Bob!').waitFor();
    await tick(alice.page, 'read').waitFor();

    // Typing shows on the other side, and so does presence.
    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Hel');
    await alice.page.getByTestId('chat-status').getByText('typing…').waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await messages(alice.page).getByText('Hel', { exact: true }).waitFor();
    await alice.page.getByTestId('chat-status').getByText('online').waitFor();
    await shot(alice.page, 'chat');
  });

  it('sends an image and shows its thumbnail on the other side', async () => {
    const { alice, bob } = people;
    await alice.page.getByLabel('File to send').setInputFiles({
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: await png(320, 200),
    });
    const thumbnail = bob.page.getByRole('img', { name: 'Photo' });
    await thumbnail.waitFor({ timeout: 20_000 });
    expect(await thumbnail.getAttribute('src')).toMatch(/^blob:/);
    expect(
      await thumbnail.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);
    await alice.page.getByRole('img', { name: 'Photo' }).waitFor({ timeout: 20_000 });
  });

  it('runs a group of three', async () => {
    const { alice, bob, carol } = people;
    await signInThroughPage(carol.page, t.url, carol.phone, 'Carol');
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill('Weekend');
    await alice.page.getByLabel(/Members’ phone numbers/).fill(`${bob.phone}, ${carol.phone}`);
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByTestId('chat-status').getByText('3 members').waitFor();
    await alice.page.getByRole('textbox', { name: 'Message' }).fill('Who is in?');
    await alice.page.getByRole('button', { name: 'Send' }).click();

    for (const person of [bob, carol]) {
      await chatItem(person.page, 'Weekend').click();
      await messages(person.page).getByText('Who is in?').waitFor();
    }
    await carol.page.getByRole('textbox', { name: 'Message' }).fill('Me!');
    await carol.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await messages(alice.page).getByText('Me!').waitFor();
    await messages(bob.page).getByText('Me!').waitFor();
    // Read by both: a group message's tick is the lowest of the members' watermarks.
    await tick(alice.page, 'read').waitFor();

    await alice.page.getByRole('button', { name: 'Group info' }).click();
    await alice.page.getByRole('list', { name: 'Members' }).getByText('Carol').waitFor();
    await alice.page.getByLabel('Only admins can send messages').check();
    await messages(bob.page)
      .getByText(/changed the group settings/)
      .waitFor();
    await shot(alice.page, 'group-info');
    await alice.page.getByRole('button', { name: 'Remove Carol' }).click();
    await alice.page.getByText('2 members').waitFor();
    await carol.page.getByText('You are no longer a member of this group.').waitFor();
  });

  it('queues a message typed offline and delivers it once on reconnect', async () => {
    const { alice, bob } = people;
    await chatItem(alice.page, 'Bob').click();
    await chatItem(bob.page, 'Alice').click();
    await bob.context.setOffline(true);
    await bob.page
      .getByRole('status')
      .getByText(/Offline/)
      .waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('Sent from a tunnel');
    await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await bob.page.locator('.message.pending .tick[data-tick="pending"]').waitFor();
    await shot(bob.page, 'offline');

    await bob.context.setOffline(false);
    await messages(alice.page).getByText('Sent from a tunnel').waitFor({ timeout: 20_000 });
    await bob.page.locator('.message.pending').waitFor({ state: 'detached' });
    await bob.page.getByRole('status').waitFor({ state: 'detached' });
    await alice.page.waitForTimeout(500);
    expect(await messages(alice.page).getByText('Sent from a tunnel').count()).toBe(1);
    expect(await messages(bob.page).getByText('Sent from a tunnel').count()).toBe(1);
  });

  it('shows one pane at a time on a phone-sized screen', async () => {
    const { alice } = people;
    await alice.page.setViewportSize({ width: 390, height: 740 });
    // The chat with Bob is open: it fills the screen, and Back shows the list.
    await messages(alice.page).getByText('Sent from a tunnel').waitFor();
    expect(await alice.page.getByRole('complementary', { name: 'Chats' }).isVisible()).toBe(false);
    await shot(alice.page, 'phone');
    await alice.page.getByRole('button', { name: 'Back to chats' }).click();
    await chatItem(alice.page, 'Weekend').waitFor();
    expect(await messages(alice.page).isVisible()).toBe(false);
    await alice.page.setViewportSize({ width: 1000, height: 640 });
  });

  it('lists devices and signs out', async () => {
    const { alice } = people;
    await alice.page.getByRole('button', { name: 'Devices' }).click();
    await alice.page.getByText('(this device)').waitFor();
    await shot(alice.page, 'devices');
    await alice.page.getByRole('button', { name: 'Sign out' }).click();
    await alice.page.getByLabel('Phone number').waitFor();
    expect(cspViolations).toEqual([]);
  });
});
