// End-to-end test of the dashboard in Debian's Chromium, driven by
// playwright-core, against a running API with a worker and the real local
// stack behind it. api/dashboard_e2e_test.go starts all of that and runs
// this script; it can also be run by hand against `make dev`:
//
//   BASE_URL=http://127.0.0.1:8080 TOKEN=sp_... TENANT=acme node e2e/dashboard.e2e.mjs
//
// A tenant's token (TOKEN) creates, changes and deletes a store. With an
// admin's token (ADMIN_TOKEN, ADMIN_TENANT) the script also looks at the
// stores the Go test arranged (FAILED_STORE: a creation that failed;
// STUCK_STORE: a deletion stuck on a finalizer, which it forces) and runs a
// rollout to ROLLOUT_VERSION over ROLLOUT_STORES (comma-separated).
//
// Every page is checked with axe-core in the light and the dark colour
// scheme: any violation of impact serious or critical fails the test.
//
// SCREENSHOTS=<dir> also saves the screenshots shown in the README and the
// docs (docs/dashboard.md lists them).
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const axeSource = createRequire(import.meta.url)('axe-core').source

const base = (process.env.BASE_URL ?? '').replace(/\/$/, '')
const token = process.env.TOKEN ?? ''
const tenant = process.env.TENANT ?? ''
const adminToken = process.env.ADMIN_TOKEN ?? ''
const adminTenant = process.env.ADMIN_TENANT ?? ''
const failedStore = process.env.FAILED_STORE ?? ''
const stuckStore = process.env.STUCK_STORE ?? ''
const rolloutVersion = process.env.ROLLOUT_VERSION ?? ''
const rolloutStores = (process.env.ROLLOUT_STORES ?? '').split(',').filter(Boolean)
const storeDomain = process.env.STORE_DOMAIN ?? 'stores.localhost'
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const shots = process.env.SCREENSHOTS ?? ''
const store = process.env.STORE ?? `e2e-${Date.now().toString(36)}`
const host = `shop-${store}.${storeDomain}`
const slow = Number(process.env.READY_TIMEOUT_MS ?? 180000)
if (!base || !token || !tenant) {
  console.error('BASE_URL, TOKEN and TENANT are required')
  process.exit(2)
}

const step = (msg) => console.log(`ok - ${msg}`)
function check(cond, msg) {
  if (!cond) throw new Error(msg)
}
async function api(method, path, body, as = token) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${as}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}
/** until polls ok (async) every 250 ms until it is true, or fails after ms. */
async function until(what, ok, ms = slow) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await ok()
    if (v) return v
    check(Date.now() < deadline, `${what}: not seen after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
/** phaseOf reads a store's phase from the API. */
const phaseOf = async (name, as = token) => (await api('GET', `/api/stores/${name}`, undefined, as)).body.phase

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
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
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
const shot = async (name, fullPage = false) => {
  if (!shots) return
  await mkdir(shots, { recursive: true })
  await page.screenshot({ path: join(shots, name), fullPage })
  step(`screenshot ${name}`)
}
const nameError = () => page.locator('#name-error')
const hostError = () => page.locator('#host-error')
const everyControlLabelled = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')].every(
      (el) => el.labels?.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'),
    ),
  )
const phase = () => page.locator('.page-head [data-phase]').getAttribute('data-phase')
const nav = () => page.getByRole('navigation', { name: 'Main' })
const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)

// audit runs axe-core on the page in the light and the dark colour scheme
// and fails on any violation of impact serious or critical, listing them.
// The page's CSP allows no inline script: axe is evaluated through the
// DevTools protocol, as the browser's own console would.
const audited = []
async function audit(what) {
  const found = []
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme })
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource)
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] })
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }))
    })
    for (const v of violations) found.push(`${what} (${colorScheme}): ${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
  check(found.length === 0, `axe-core found serious or critical violations:\n${found.join('\n')}`)
  audited.push(what)
  step(`axe-core: no serious or critical violation on ${what}, light and dark`)
}

let failed = false
try {
  // Sign in.
  await page.goto(base + '/')
  await page.getByLabel('API token').waitFor()
  check((await page.title()) === 'Sign in · Store Platform', `sign-in title: ${await page.title()}`)
  await audit('the sign-in page')
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
  check((await page.title()) === 'Stores · Store Platform', `list title: ${await page.title()}`)
  check((await nav().getByRole('link', { name: 'Stores' }).getAttribute('aria-current')) === 'page', 'Stores is not the current page')
  step('focus moves to the page heading; every control of the list is labelled; the tab and the navigation name the page')

  const list = await api('GET', '/api/stores')
  if (list.body.items.length === 0) {
    await page.getByRole('heading', { name: 'No stores yet' }).waitFor()
    step('the empty state invites to create a store')
    await audit('the empty list')
    await page.getByRole('link', { name: 'Create your first store' }).click()
  } else {
    await nav().getByRole('link', { name: 'New store' }).click()
  }
  await page.getByRole('heading', { name: 'New store' }).waitFor()
  check(await everyControlLabelled(), 'a control of the form has no label')
  check((await nav().getByRole('link', { name: 'New store' }).getAttribute('aria-current')) === 'page', 'New store is not the current page')
  check((await page.title()) === 'New store · Store Platform', `form title: ${await page.title()}`)

  // The tenant's stores of its limit, from GET /api/me.
  const me = (await api('GET', '/api/me')).body
  const quota = `Tenant ${tenant} has ${me.storeCount} of ${me.storeLimit} stores.`
  await page.getByTestId('quota').getByText(quota).waitFor()
  step(`the form says "${quota}"`)

  // The sizes of GET /api/sizes, with what each gives.
  const sizes = (await api('GET', '/api/sizes')).body
  await page.getByRole('option', { name: `${sizes.default} (default)` }).waitFor({ state: 'attached' })
  const options = await page.getByLabel('Size', { exact: true }).locator('option').evaluateAll((os) => os.map((o) => o.value))
  check(JSON.stringify(options) === JSON.stringify(sizes.items.map((s) => s.name)), `size options ${options}`)
  const chosen = sizes.items.map((s) => s.name).find((n) => n !== sizes.default)
  check((await page.locator('table tr[data-size]').count()) === sizes.items.length, 'not every size is described')
  step(`the size select offers ${options.join(', ')} from GET /api/sizes, ${sizes.default} chosen`)
  await audit('the create form')

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

  // The host: checked with the API's rule first, then the server's own
  // (a tenant's host is under the store domain) lands on the field.
  await page.getByLabel('Name', { exact: true }).fill(store)
  await page.getByLabel(/^Host/).fill('Shop_1.example.com')
  await page.getByRole('button', { name: 'Create store' }).click()
  await hostError().waitFor()
  const badHost = await api('POST', '/api/stores', { name: store, engine: 'woocommerce', host: 'Shop_1.example.com' })
  check(badHost.status === 400, `the API took a bad host: ${badHost.status}`)
  const badHostMsg = badHost.body.errors.find((e) => e.field === 'host').message
  check((await hostError().textContent()) === `Host ${badHostMsg}`, `host error ${await hostError().textContent()}`)
  await page.getByLabel(/^Host/).fill('shop.example.com')
  await page.getByRole('button', { name: 'Create store' }).click()
  await page.waitForFunction(() => document.querySelector('#host-error')?.textContent?.includes('must end in'))
  const outside = await api('POST', '/api/stores', { name: `${store}-x`, engine: 'woocommerce', host: 'shop.example.com' })
  check(outside.status === 400, `the API took a host outside its domain: ${outside.status}`)
  const outsideMsg = outside.body.errors.find((e) => e.field === 'host').message
  check((await hostError().textContent()) === `Host ${outsideMsg}`, `host error ${await hostError().textContent()}`)
  check((await api('GET', `/api/stores/${store}`)).status === 404, 'a refused create made a store')
  step(`a bad host is refused on the field: "${badHostMsg}", and the server's "${outsideMsg}"`)

  // Create a WooCommerce store with a chosen size and host.
  await page.getByLabel(/^Host/).fill(host)
  await page.getByLabel('Size', { exact: true }).selectOption(chosen)
  await page.getByLabel(/Title/).fill('E2E Shop')
  await page.getByLabel(/Admin email/).fill('owner@example.com')
  await page.evaluate(() => window.scrollTo(0, 0))
  await shot('create-form.png', true)
  await page.getByRole('button', { name: 'Create store' }).click()
  await page.waitForURL(`${base}/stores/${store}`)
  await page.getByRole('heading', { name: store, level: 1 }).waitFor()
  await page.evaluate(() => {
    window.__sameDocument = true
  })
  check((await page.title()) === `${store} · Store Platform`, `store title: ${await page.title()}`)
  step(`created ${store} (size ${chosen}, host ${host}); its page is open`)
  // Each step the page hears of shows when it started, and how long it took or has taken.
  await page.getByTestId('step-time').first().waitFor()
  const firstTime = (await page.getByTestId('step-time').first().textContent()) ?? ''
  check(/^started .+(, took \d|, running for \d)/.test(firstTime) || /^started [^,]+$/.test(firstTime), `step time: ${firstTime}`)
  if (shots) {
    await page.locator('[data-state=running]').first().waitFor({ timeout: 10000 }).catch(() => {})
    await shot('store-progress.png')
  }
  await page.getByRole('heading', { name: 'Kubernetes events' }).waitFor()
  await audit('a store being created')

  // Watch it become ready, live.
  const seen = new Set()
  const deadline = Date.now() + slow
  for (;;) {
    const p = await phase()
    seen.add(p)
    if (p === 'ready') break
    check(p !== 'failed', `the store failed: ${await page.locator('main').textContent()}`)
    check(Date.now() < deadline, `not ready after ${slow} ms; phases seen: ${[...seen]}`)
    await page.waitForTimeout(200)
  }
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded')
  const states = await page.locator('[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))
  check(states.length === 6 && states.every((s) => s === 'done'), `steps at ready: ${states}`)
  // The steps the page heard of (the workflow may end before the page hears
  // of every step) keep their start; none is still running.
  const times = await page.getByTestId('step-time').allTextContents()
  check(times.length > 0 && times.every((t) => t.startsWith('started ') && !t.includes('running for')), `step times: ${times}`)
  check((await page.locator(`main a[href="http://${host}"]`).count()) > 0, `no link to http://${host}`)
  check((await page.getByTestId('size').textContent()) === chosen, `size shown: ${await page.getByTestId('size').textContent()}`)
  const created = await api('GET', `/api/stores/${store}`)
  check(created.body.size === chosen && created.body.host === host, `record: ${JSON.stringify(created.body)}`)
  await page.getByTestId('ready-at').waitFor()
  check((await page.getByTestId('created-at').getAttribute('datetime')) === created.body.createdAt, 'created time not shown')
  step(`the store reached Ready without a reload (phases seen: ${[...seen].join(' -> ')}); its first step ${firstTime}`)

  // Credentials, on demand, and copied.
  check((await page.getByTestId('password').count()) === 0, 'credentials shown before asking')
  await page.getByRole('button', { name: 'Show admin credentials' }).click()
  await page.getByTestId('password').waitFor()
  const password = (await page.getByTestId('password').textContent()) ?? ''
  const username = (await page.getByTestId('username').textContent()) ?? ''
  check(password.length >= 16 && username.length > 0, `credentials ${username}/${password.length} chars`)
  await page.getByRole('button', { name: 'Copy the password' }).click()
  await page.getByText('Copied', { exact: true }).waitFor()
  check((await page.evaluate(() => navigator.clipboard.readText())) === password, 'the clipboard does not hold the password')
  if (shots) {
    await page.locator('.credentials').scrollIntoViewIfNeeded()
    await shot('store-credentials.png')
  }
  await audit('a ready store with its credentials revealed')
  await page.getByRole('button', { name: 'Hide admin credentials' }).click()
  check((await page.getByTestId('password').count()) === 0, 'credentials still shown after hiding')
  step(`the admin credentials are revealed on demand (user ${username}) and the password is copied to the clipboard`)

  // Suspend asks first; cancelled, nothing is sent.
  await page.getByRole('button', { name: 'Suspend' }).click()
  const suspend = page.getByRole('alertdialog', { name: `Suspend ${store}?` })
  await suspend.waitFor()
  await suspend.getByRole('button', { name: 'Cancel' }).click()
  await page.waitForTimeout(500)
  const notSuspended = await api('GET', `/api/stores/${store}`)
  check(notSuspended.body.phase === 'ready' && !notSuspended.body.operation, `after a cancelled suspension: ${JSON.stringify(notSuspended.body)}`)
  step('Suspend asks for a confirmation; cancelled, the store is not suspended')

  // Change the title in Settings; the change runs and the page follows it
  // to Ready without a reload.
  const lastOp = page.getByTestId('last-operation')
  const waitFor = async (what, ok) => {
    const until = Date.now() + slow
    const phases = new Set()
    for (;;) {
      phases.add(await phase())
      if (await ok()) return [...phases]
      check(Date.now() < until, `${what} not seen after ${slow} ms; phases seen: ${[...phases]}; ${await page.locator('main').textContent()}`)
      await page.waitForTimeout(200)
    }
  }
  await page.getByLabel('Title', { exact: true }).fill('E2E Shop, changed')
  await page.getByRole('button', { name: 'Save changes' }).click()
  let phases = await waitFor('the change', async () =>
    (await lastOp.count()) > 0 && (await lastOp.textContent()) === 'change done (revision 2)' && (await phase()) === 'ready')
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
    (await lastOp.textContent()) === 'rollback done (revision 3)' && (await phase()) === 'ready')
  await page.locator('tr[data-revision="3"]').waitFor()
  const top = (await page.locator('tr[data-revision="3"]').textContent()) ?? ''
  check(top.includes('title: "E2E Shop, changed" -> "E2E Shop"') && top.includes('deployed'), `history row 3: ${top}`)
  const rolled = await api('GET', `/api/stores/${store}`)
  check(rolled.body.title === 'E2E Shop' && rolled.body.revision === 3, `record after the rollback: ${JSON.stringify(rolled.body)}`)
  step(`rolled back to revision 1 from the history table (phases seen: ${phases.join(' -> ')})`)
  if (shots) {
    await page.locator('#settings-heading').evaluate((h) => h.scrollIntoView({ block: 'start' }))
    await shot('store-settings.png')
  }

  // A name in use: the server's conflict lands on the name field.
  await nav().getByRole('link', { name: 'New store' }).click()
  await page.getByLabel('Name', { exact: true }).fill(store)
  await page.getByLabel(/Title/).fill('Another shop')
  await page.getByRole('button', { name: 'Create store' }).click()
  await nameError().waitFor()
  const conflict = await api('POST', '/api/stores', { name: store, engine: 'woocommerce', title: 'Another shop' })
  check(conflict.status === 409, `the API took a second ${store}: ${conflict.status}`)
  check((await nameError().textContent()) === `Name ${conflict.body.detail}`, `name error: ${await nameError().textContent()}`)
  step(`a name in use shows the server's conflict on the field: "${conflict.body.detail}"`)

  // The list.
  await nav().getByRole('link', { name: 'Stores' }).click()
  const row = page.locator(`tr[data-store="${store}"]`)
  await row.locator('[data-phase=ready]').waitFor()
  check((await row.textContent()).includes('WooCommerce'), 'engine missing in the row')
  check((await page.getByRole('columnheader', { name: /Owner/ }).count()) === 0, 'a tenant is shown an Owner column')
  await page.getByText('Live', { exact: true }).waitFor()
  await page.getByLabel('Phase').selectOption('failed')
  await page.getByRole('heading', { name: 'No stores match these filters' }).waitFor()
  await page.getByLabel('Phase').selectOption('')
  await row.waitFor()
  step('the list shows the store as Ready, and filters by phase')
  // A fuller list: two more stores, still coming up.
  const others = [
    { name: 'corner-bakery', engine: 'woocommerce', title: 'Corner Bakery' },
    { name: 'outlet', engine: 'medusa', medusaImage: 'registry.example.com/acme/medusa:2.8.0' },
  ]
  for (const body of others) {
    const r = await api('POST', '/api/stores', body)
    check(r.status === 202, `create ${body.name}: ${r.status}`)
    await page.locator(`tr[data-store="${body.name}"]`).waitFor()
  }
  await shot('stores.png')
  await audit('the list of stores')

  // Search by the start of the name: the list asks the API (?name=).
  const rowNames = () => page.locator('tbody tr[data-store]').evaluateAll((rs) => rs.map((r) => r.dataset.store))
  const prefix = store.slice(0, 4)
  await page.getByLabel('Search by name').fill(prefix.toUpperCase())
  await page.waitForURL(`${base}/?name=${prefix}`)
  const expected = [store, ...others.map((o) => o.name)].filter((n) => n.startsWith(prefix)).sort()
  await until(`the search for ${prefix}`, async () => JSON.stringify((await rowNames()).sort()) === JSON.stringify(expected))
  const searched = await api('GET', `/api/stores?name=${prefix}`)
  check(JSON.stringify(searched.body.items.map((r) => r.name).sort()) === JSON.stringify(expected), `GET ?name=${prefix}: ${JSON.stringify(searched.body.items.map((r) => r.name))}`)
  await page.getByLabel('Search by name').fill('')
  await page.waitForURL(`${base}/`)
  await until('every store back', async () => (await rowNames()).length === 3)
  step(`the search box finds ${expected.join(', ')} by "${prefix.toUpperCase()}" through GET /api/stores?name=${prefix}`)

  // Sort by name: the rows on screen, said by aria-sort.
  await page.getByRole('button', { name: /^Name/ }).click()
  const byName = await rowNames()
  check(JSON.stringify(byName) === JSON.stringify([...byName].sort()), `sorted by name: ${byName}`)
  check((await page.locator('th[aria-sort]').getAttribute('aria-sort')) === 'ascending', 'aria-sort is not ascending')
  check((await page.locator('th[aria-sort] [data-sort]').getAttribute('data-sort')) === 'name', 'aria-sort is not on Name')
  await page.getByRole('button', { name: /^Age/ }).click()
  step(`the rows sort by name (${byName.join(', ')}), with aria-sort on the column`)

  // Phone width: no horizontal scrolling, and no violation either.
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto(base + '/?sort=created&order=desc')
  await row.waitFor()
  check((await sideways()) <= 0, `the list scrolls sideways at 390 px by ${await sideways()} px`)
  await shot('stores-phone.png')
  await audit('the list at a phone width')
  await page.goto(base + '/new')
  await page.getByRole('heading', { name: 'New store' }).waitFor()
  await page.getByRole('option', { name: `${sizes.default} (default)` }).waitFor({ state: 'attached' })
  check((await sideways()) <= 0, `the form scrolls sideways at 390 px by ${await sideways()} px`)
  await page.setViewportSize({ width: 1280, height: 860 })
  await page.goto(base + '/')
  step('the list and the form fit a phone width')

  // Delete with typed-name confirmation, then watch it go from the list.
  await row.getByRole('link', { name: store, exact: true }).click()
  await page.getByRole('button', { name: 'Delete store' }).click()
  await page.keyboard.press('Escape')
  check((await page.getByLabel("Type the store's name to confirm").count()) === 0, 'Escape did not close the confirmation')
  await page.getByRole('button', { name: 'Delete store' }).click()
  check((await page.evaluate(() => document.activeElement?.id)) === 'confirm-name', 'focus is not on the confirmation field')
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

  if (adminToken) await asAdmin()

  check(problems.length === 0, problems.join('\n'))
  step(`no page errors and no request left the API origin; axe-core checked ${audited.length} pages`)
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

// asAdmin signs in as the admin: the owners of the stores, a failed store
// and a stuck deletion (arranged by the Go test), the forced deletion, and
// a rollout previewed, started and followed to its end.
async function asAdmin() {
  await page.getByLabel('API token').fill(adminToken)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Stores', level: 1 }).waitFor()
  await nav().getByRole('link', { name: 'Rollouts' }).waitFor()
  step(`signed in as the admin ${adminTenant}`)

  // The owner column, and the owner filter (?owner=).
  const arranged = [failedStore, stuckStore].filter(Boolean)
  for (const name of arranged) {
    await until(`${name} made`, async () => (await api('GET', `/api/stores/${name}`, undefined, adminToken)).status === 200)
  }
  if (arranged.length) {
    const owner = (await api('GET', `/api/stores/${arranged[0]}`, undefined, adminToken)).body.owner
    await page.getByRole('columnheader', { name: 'Owner' }).waitFor()
    await page.getByLabel('Owner').fill(owner)
    await page.waitForURL(`${base}/?owner=${owner}`)
    for (const name of arranged) await page.locator(`tr[data-store="${name}"] [data-testid=owner]`).getByText(owner).waitFor()
    // The URL changes before the filtered page arrives, and the arranged
    // stores are on both pages: wait for the rows of the filtered one.
    const owners = await until(`only ${owner}'s stores listed`, async () => {
      const seen = await page.locator('tbody [data-testid=owner]').allTextContents()
      return seen.length > 0 && seen.every((o) => o === owner) ? seen : null
    }, 30000)
    step(`the admin sees the Owner column and filters by owner ${owner}: ${owners.length} stores`)
    await page.getByLabel('Owner').fill('')
    await page.waitForURL(`${base}/`)
  }

  if (failedStore) {
    await until(`${failedStore} failed`, async () => (await phaseOf(failedStore, adminToken)) === 'failed')
    await page.goto(`${base}/stores/${failedStore}`)
    await page.locator('.page-head [data-phase=failed]').waitFor()
    const reason = (await page.locator('.last-error p').textContent()) ?? ''
    const rec = (await api('GET', `/api/stores/${failedStore}`, undefined, adminToken)).body
    check(reason !== '' && (await page.getByTestId('message').textContent()) === rec.message, `the failure's reason: ${reason} (record: ${rec.message})`)
    await page.getByRole('button', { name: 'Retry' }).waitFor()
    await shot('store-failed.png')
    await audit('a failed store')
    step(`the failed store ${failedStore} shows its reason: "${reason}"`)
  }

  if (stuckStore) {
    await until(`${stuckStore} stuck`, async () => (await phaseOf(stuckStore, adminToken)) === 'deletion_stuck')
    await page.goto(`${base}/stores/${stuckStore}`)
    await page.locator('.page-head [data-phase=deletion_stuck]').waitFor()
    const blockers = await page.locator('.blockers li').allTextContents()
    check(blockers.some((b) => b.includes('example.com/hold')), `blockers: ${blockers}`)
    await page.getByRole('heading', { name: 'What blocks the deletion' }).scrollIntoViewIfNeeded()
    await shot('store-deletion-stuck.png')
    await audit('a stuck deletion')
    // Force, after typing the name.
    await page.getByRole('button', { name: 'Force deletion' }).click()
    const force = page.getByRole('button', { name: `Force the deletion of ${stuckStore}` })
    check(await force.isDisabled(), 'force enabled before typing the name')
    check((await phaseOf(stuckStore, adminToken)) === 'deletion_stuck', 'Force deletion acted before its confirmation')
    await page.locator('#confirm-force').fill(stuckStore)
    await force.click()
    await page.locator('.page-head [data-phase=deleted]').waitFor({ timeout: slow })
    step(`the stuck deletion of ${stuckStore} shows its blockers (${blockers.join('; ')}); forced after typing the name, it ends deleted`)
  }

  if (rolloutVersion && rolloutStores.length) {
    for (const name of rolloutStores) {
      await until(`${name} ready`, async () => (await phaseOf(name, adminToken)) === 'ready')
    }
    const owner = (await api('GET', `/api/stores/${rolloutStores[0]}`, undefined, adminToken)).body.owner
    await nav().getByRole('link', { name: 'Rollouts' }).click()
    await page.getByRole('heading', { name: 'Rollouts', level: 1 }).waitFor()
    await page.getByRole('option', { name: new RegExp(`^${rolloutVersion.replace(/\./g, '\\.')}`) }).waitFor({ state: 'attached' })
    await audit('the rollouts')
    await page.getByLabel('Chart version').selectOption(rolloutVersion)
    await page.getByLabel('Engine').selectOption('woocommerce')
    await page.getByLabel('Tenant').fill(owner)
    await page.getByRole('button', { name: 'Review the stores' }).click()
    const preview = page.getByRole('alertdialog', { name: `Start the rollout to ${rolloutVersion}?` })
    await preview.waitFor()
    const previewed = await preview.locator('tr[data-preview-store]').evaluateAll((rs) => rs.map((r) => r.dataset.previewStore))
    check(JSON.stringify(previewed.sort()) === JSON.stringify([...rolloutStores].sort()), `the preview lists ${previewed}`)
    check((await api('GET', '/api/rollouts', undefined, adminToken)).body.items.length === 0, 'a rollout started before its confirmation')
    await audit('a rollout preview')
    await preview.getByRole('button', { name: `Start rollout on ${rolloutStores.length} stores` }).click()
    await page.waitForURL(new RegExp(`${base}/rollouts/[^/]+$`))
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop())
    step(`the rollout ${id} previewed ${previewed.join(', ')} before it started`)
    await page.locator('[data-rollout-status]').waitFor()
    await page.locator('[data-rollout-status=completed]').waitFor({ timeout: slow })
    const rolled = await page.locator('tbody tr[data-store]').evaluateAll((rs) => rs.map((r) => `${r.dataset.store}:${r.dataset.state}`))
    check(JSON.stringify(rolled.sort()) === JSON.stringify(rolloutStores.map((n) => `${n}:ready`).sort()), `rollout stores: ${rolled}`)
    await shot('rollout.png')
    await audit('a rollout')
    step(`the rollout completed live: ${rolled.join(', ')}`)
    await page.getByRole('link', { name: 'All rollouts' }).click()
    const listed = page.locator(`tr[data-rollout="${id}"]`)
    await listed.waitFor()
    const summary = (await api('GET', '/api/rollouts', undefined, adminToken)).body.items.find((r) => r.id === id)
    check((await listed.getByTestId('rollout-workflow').textContent()) === summary.workflowId, 'the Workflow column is not the workflow ID')
    check((await listed.getByTestId('rollout-status').textContent()) === summary.status, 'the Status column is not the status')
    step(`the rollouts list shows the workflow ${summary.workflowId} and the status ${summary.status} in their columns`)
  }

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel('API token').waitFor()
}
