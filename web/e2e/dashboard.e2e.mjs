// End-to-end test of the dashboard in Debian's Chromium, driven by
// playwright-core, against a running API with a worker and the real local
// stack behind it. api/dashboard_e2e_test.go starts all of that and runs
// this script; it can also be run by hand against `make dev`:
//
//   BASE_URL=http://127.0.0.1:8080 TOKEN=sp_... TENANT=admin node e2e/dashboard.e2e.mjs
//
// SCREENSHOTS=<dir> also saves the screenshots shown in the README.
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const base = (process.env.BASE_URL ?? '').replace(/\/$/, '')
const token = process.env.TOKEN ?? ''
const tenant = process.env.TENANT ?? ''
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const shots = process.env.SCREENSHOTS ?? ''
const store = process.env.STORE ?? `e2e-${Date.now().toString(36)}`
const slow = Number(process.env.READY_TIMEOUT_MS ?? 180000)
if (!base || !token || !tenant) {
  console.error('BASE_URL, TOKEN and TENANT are required')
  process.exit(2)
}

const step = (msg) => console.log(`ok - ${msg}`)
function check(cond, msg) {
  if (!cond) throw new Error(msg)
}
async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}

const userDataDir = await mkdtemp(join(tmpdir(), 'storeplatform-chromium-'))
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-quic',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 860 },
})
const page = context.pages()[0] ?? (await context.newPage())
const problems = []
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`)
})
page.on('request', (r) => {
  const u = r.url()
  if (!u.startsWith(base + '/') && !u.startsWith('data:')) problems.push(`request outside the API's origin: ${u}`)
})
const shot = async (name) => {
  if (!shots) return
  await mkdir(shots, { recursive: true })
  await page.screenshot({ path: join(shots, name), fullPage: false })
  step(`screenshot ${name}`)
}
const nameError = () => page.locator('#name-error')
const everyControlLabelled = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')].every(
      (el) => el.labels?.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'),
    ),
  )

let failed = false
try {
  // Sign in.
  await page.goto(base + '/')
  await page.getByLabel('API token').fill('sp_not-a-token')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByText('This token is invalid or revoked.').waitFor()
  step('a bad token is refused on the sign-in form')
  await page.getByLabel('API token').fill(token)
  await page.keyboard.press('Enter')
  await page.getByTestId('tenant').locator('strong').waitFor()
  check((await page.getByTestId('tenant').locator('strong').textContent()) === tenant, 'tenant not shown')
  check((await page.evaluate(() => sessionStorage.getItem('storeplatform.token'))) === token, 'token not in sessionStorage')
  step(`signed in (Enter submits); the tenant ${tenant} is shown`)
  await page.getByRole('heading', { name: 'Stores', level: 1 }).waitFor()
  check((await page.evaluate(() => document.activeElement?.tagName)) === 'H1', 'focus is not on the page heading')
  check(await everyControlLabelled(), 'a control of the list has no label')
  step('focus moves to the page heading; every control of the list is labelled')

  const list = await api('GET', '/api/stores')
  if (list.body.items.length === 0) {
    await page.getByRole('heading', { name: 'No stores yet' }).waitFor()
    step('the empty state invites to create a store')
    await page.getByRole('link', { name: 'Create your first store' }).click()
  } else {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New store' }).click()
  }
  await page.getByRole('heading', { name: 'New store' }).waitFor()
  check(await everyControlLabelled(), 'a control of the form has no label')

  // A bad name: the field shows the server's message for it.
  const server = await api('POST', '/api/stores', { name: 'Bad_Name', engine: 'woocommerce' })
  check(server.status === 400, `the API took Bad_Name: ${server.status}`)
  const serverMsg = server.body.errors.find((e) => e.field === 'name').message
  await page.getByLabel('Name', { exact: true }).fill('Bad_Name')
  await page.getByRole('button', { name: 'Create store' }).click()
  await nameError().waitFor()
  check((await nameError().textContent()) === `Name ${serverMsg}`, `name error ${await nameError().textContent()} != server's ${serverMsg}`)
  check((await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')) === 'true', 'name not marked invalid')
  step(`a bad name shows the server's message on the field: "${serverMsg}"`)

  // Medusa needs an image.
  await page.getByRole('radio', { name: /Medusa/ }).check()
  await page.getByLabel('Medusa image').waitFor()
  await page.getByRole('radio', { name: /WooCommerce/ }).check()
  check((await page.getByLabel('Medusa image').count()) === 0, 'Medusa image field shown for WooCommerce')
  step('the Medusa image field appears only for Medusa')

  // Create a WooCommerce store.
  await page.getByLabel('Name', { exact: true }).fill(store)
  await page.getByLabel(/Title/).fill('E2E Shop')
  await page.getByLabel(/Admin email/).fill('owner@example.com')
  await shot('create-form.png')
  await page.getByRole('button', { name: 'Create store' }).click()
  await page.waitForURL(`${base}/stores/${store}`)
  await page.getByRole('heading', { name: store, level: 1 }).waitFor()
  await page.evaluate(() => {
    window.__sameDocument = true
  })
  step(`created ${store}; its page is open`)
  if (shots) {
    await page.locator('[data-state=running]').first().waitFor({ timeout: 10000 }).catch(() => {})
    await shot('store-progress.png')
  }

  // Watch it become ready, live.
  const seen = new Set()
  const deadline = Date.now() + slow
  for (;;) {
    const phase = await page.locator('.page-head [data-phase]').getAttribute('data-phase')
    seen.add(phase)
    if (phase === 'ready') break
    check(phase !== 'failed', `the store failed: ${await page.locator('main').textContent()}`)
    check(Date.now() < deadline, `not ready after ${slow} ms; phases seen: ${[...seen]}`)
    await page.waitForTimeout(200)
  }
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded')
  const states = await page.locator('[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))
  check(states.length === 6 && states.every((s) => s === 'done'), `steps at ready: ${states}`)
  check((await page.locator(`main a[href^="http://${store}."]`).count()) > 0, 'no store URL')
  step(`the store reached Ready without a reload (phases seen: ${[...seen].join(' -> ')})`)

  // Credentials, on demand.
  check((await page.getByTestId('password').count()) === 0, 'credentials shown before asking')
  await page.getByRole('button', { name: 'Show admin credentials' }).click()
  await page.getByTestId('password').waitFor()
  const password = (await page.getByTestId('password').textContent()) ?? ''
  const username = (await page.getByTestId('username').textContent()) ?? ''
  check(password.length >= 16 && username.length > 0, `credentials ${username}/${password.length} chars`)
  await page.getByRole('button', { name: 'Hide admin credentials' }).click()
  check((await page.getByTestId('password').count()) === 0, 'credentials still shown after hiding')
  step(`the admin credentials are revealed on demand (user ${username})`)

  // Change the title in Settings; the change runs and the page follows it
  // to Ready without a reload.
  const lastOp = page.getByTestId('last-operation')
  const waitFor = async (what, ok) => {
    const until = Date.now() + slow
    const phases = new Set()
    for (;;) {
      phases.add(await page.locator('.page-head [data-phase]').getAttribute('data-phase'))
      if (await ok()) return [...phases]
      check(Date.now() < until, `${what} not seen after ${slow} ms; phases seen: ${[...phases]}; ${await page.locator('main').textContent()}`)
      await page.waitForTimeout(200)
    }
  }
  await page.getByLabel('Title', { exact: true }).fill('E2E Shop, changed')
  await page.getByRole('button', { name: 'Save changes' }).click()
  let phases = await waitFor('the change', async () =>
    (await lastOp.count()) > 0 && (await lastOp.textContent()) === 'change done (revision 2)' &&
    (await page.locator('.page-head [data-phase]').getAttribute('data-phase')) === 'ready')
  check((await page.locator('.summary dd').allTextContents()).includes('E2E Shop, changed'), 'the new title is not shown')
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded')
  const changed = await api('GET', `/api/stores/${store}`)
  check(changed.body.title === 'E2E Shop, changed' && changed.body.revision === 2, `record after the change: ${JSON.stringify(changed.body)}`)
  step(`the title change reached Ready without a reload (phases seen: ${phases.join(' -> ')})`)

  // Roll back to revision 1 from the history table, after typing the name.
  await page.getByRole('button', { name: 'Roll back to revision 1' }).click()
  const confirmRollback = page.getByRole('button', { name: 'Confirm rollback to revision 1' })
  check(await confirmRollback.isDisabled(), 'the rollback is possible before the name is typed')
  await page.getByLabel("Type the store's name to confirm").fill(store)
  await confirmRollback.click()
  phases = await waitFor('the rollback', async () =>
    (await lastOp.textContent()) === 'rollback done (revision 3)' &&
    (await page.locator('.page-head [data-phase]').getAttribute('data-phase')) === 'ready')
  await page.locator('tr[data-revision="3"]').waitFor()
  const top = (await page.locator('tr[data-revision="3"]').textContent()) ?? ''
  check(top.includes('title: "E2E Shop, changed" -> "E2E Shop"') && top.includes('deployed'), `history row 3: ${top}`)
  const rolled = await api('GET', `/api/stores/${store}`)
  check(rolled.body.title === 'E2E Shop' && rolled.body.revision === 3, `record after the rollback: ${JSON.stringify(rolled.body)}`)
  step(`rolled back to revision 1 from the history table (phases seen: ${phases.join(' -> ')})`)
  if (shots) {
    await page.locator('#settings-heading').scrollIntoViewIfNeeded()
    await shot('store-settings.png')
  }

  // A name in use: the server's conflict lands on the name field.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New store' }).click()
  await page.getByLabel('Name', { exact: true }).fill(store)
  await page.getByLabel(/Title/).fill('Another shop')
  await page.getByRole('button', { name: 'Create store' }).click()
  await nameError().waitFor()
  const conflict = await api('POST', '/api/stores', { name: store, engine: 'woocommerce', title: 'Another shop' })
  check(conflict.status === 409, `the API took a second ${store}: ${conflict.status}`)
  check((await nameError().textContent()) === `Name ${conflict.body.detail}`, `name error: ${await nameError().textContent()}`)
  step(`a name in use shows the server's conflict on the field: "${conflict.body.detail}"`)

  // The list.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stores' }).click()
  const row = page.locator(`tr[data-store="${store}"]`)
  await row.locator('[data-phase=ready]').waitFor()
  check((await row.textContent()).includes('WooCommerce'), 'engine missing in the row')
  await page.getByText('Live', { exact: true }).waitFor()
  await page.getByLabel('Phase').selectOption('failed')
  await page.getByRole('heading', { name: 'No stores match these filters' }).waitFor()
  await page.getByLabel('Phase').selectOption('')
  await row.waitFor()
  step('the list shows the store as Ready, and filters by phase')
  if (shots) {
    // A fuller list for the README: two more stores, still coming up.
    for (const body of [
      { name: 'corner-bakery', engine: 'woocommerce', title: 'Corner Bakery' },
      { name: 'outlet', engine: 'medusa', medusaImage: 'registry.example.com/acme/medusa:2.8.0' },
    ]) {
      const r = await api('POST', '/api/stores', body)
      check(r.status === 202, `create ${body.name}: ${r.status}`)
      await page.locator(`tr[data-store="${body.name}"]`).waitFor()
    }
    await shot('stores.png')
  }

  // Phone width: no horizontal scrolling.
  await page.setViewportSize({ width: 390, height: 844 })
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  check(overflow <= 0, `the list scrolls sideways at 390 px by ${overflow} px`)
  await page.setViewportSize({ width: 1280, height: 860 })
  step('the list fits a phone width')

  // Delete with typed-name confirmation, then watch it go from the list.
  await row.getByRole('link', { name: store, exact: true }).click()
  await page.getByRole('button', { name: 'Delete store' }).click()
  await page.keyboard.press('Escape')
  check((await page.getByLabel("Type the store's name to confirm").count()) === 0, 'Escape did not close the confirmation')
  await page.getByRole('button', { name: 'Delete store' }).click()
  check(
    (await page.evaluate(() => document.activeElement?.id)) === 'confirm-name',
    'focus is not on the confirmation field',
  )
  const confirm = page.getByRole('button', { name: `Delete ${store}` })
  check(await confirm.isDisabled(), 'delete enabled before typing the name')
  await page.getByLabel("Type the store's name to confirm").fill(store.slice(0, -1))
  check(await confirm.isDisabled(), 'delete enabled with a wrong name')
  await page.getByLabel("Type the store's name to confirm").fill(store)
  await confirm.click()
  await page.waitForURL(`${base}/`)
  await page.evaluate(() => {
    window.__sameDocument = true
  })
  // The row must be seen first (deleting), or its absence would prove nothing.
  await row.locator('[data-phase=deleting]').waitFor({ timeout: 10000 })
  await row.waitFor({ state: 'detached', timeout: slow })
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded')
  const gone = await api('GET', `/api/stores/${store}`)
  check(gone.body.phase === 'deleted', `the store left the list as ${gone.body.phase}, not deleted`)
  step('the store showed Deleting, then left the list once deleted, without a reload')

  // Sign out clears the token.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel('API token').waitFor()
  check((await page.evaluate(() => sessionStorage.getItem('storeplatform.token'))) === null, 'token left in sessionStorage')
  step('signing out clears the token')

  check(problems.length === 0, problems.join('\n'))
  step('no page errors and no request left the API origin')
} catch (e) {
  failed = true
  console.error(`not ok - ${e instanceof Error ? e.stack : e}`)
  if (problems.length) console.error(problems.join('\n'))
  try {
    const where = join(tmpdir(), `storeplatform-e2e-failure-${Date.now()}.png`)
    await page.screenshot({ path: where, fullPage: true })
    console.error(`screenshot of the failure: ${where}`)
    console.error((await page.locator('body').innerText()).slice(0, 3000))
  } catch {
    // The browser is gone.
  }
} finally {
  await context.close()
  await rm(userDataDir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
