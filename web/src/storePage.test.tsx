import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type KubeEvent, type Me, type StoreResponse } from './api'
import { sortEvents } from './components/KubeEvents'
import { StorePage } from './components/StorePage'
import { Router } from './router'
import { SessionContext } from './session'
import { sizes } from './testing'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  Reflect.deleteProperty(navigator, 'clipboard')
  Reflect.deleteProperty(document, 'execCommand')
})

const base: StoreResponse = {
  name: 'shop',
  generation: 1,
  engine: 'woocommerce',
  host: 'shop.stores.localhost',
  phase: 'ready',
  namespace: 'store-shop',
  url: 'http://shop.stores.localhost',
  createdAt: '2026-11-26T10:00:00Z',
  updatedAt: '2026-11-26T10:00:05Z',
  createWorkflowId: 'store/shop/1/create',
}

const history = [
  { revision: 2, chartVersion: '0.1.0', status: 'deployed', updatedAt: '2026-11-26T11:00:00Z', size: 'small', changes: ['title: "Old" -> "Shop"'] },
  { revision: 1, chartVersion: '0.1.0', status: 'superseded', updatedAt: '2026-11-26T10:00:00Z', description: 'Install complete', size: 'small', changes: [] },
]

/** fakeAPI answers the store page's calls and records them. */
function fakeAPI(store: StoreResponse, events: KubeEvent[] = []) {
  const calls: string[] = []
  const fetchImpl = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET'
    calls.push(`${method} ${url}${init?.body ? ' ' + init.body : ''}`)
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    if (url.endsWith('/kubernetes-events')) return json(200, { items: events })
    if (url.endsWith('/events')) return new Response('retry: 600000\n\n', { status: 200 })
    if (url === '/api/sizes') return json(200, sizes)
    if (url.endsWith('/credentials'))
      return json(200, { store: 'shop', loginUrl: 'http://shop.stores.localhost/wp-admin/', username: 'admin', password: 's3cret-s3cret-s3cret' })
    if (url.endsWith('/retry')) return json(202, { store: 'shop', workflowId: 'w', signal: 'retry' })
    if (url.endsWith('/history')) return json(200, { store: 'shop', items: history })
    const op = (kind: string) => json(202, { store, operation: { kind, workflowId: 'store/shop/1/operation' } })
    if (url.endsWith('/rollback')) return op('rollback')
    if (url.endsWith('/suspend')) return op('suspend')
    if (url.endsWith('/resume')) return op('resume')
    if (method === 'PATCH') {
      const body = JSON.parse(String(init?.body)) as Record<string, string>
      if (body.host === 'taken.example.com') {
        return new Response(
          JSON.stringify({ type: 'https://storeplatform.io/problems/validation', title: 'Invalid request', status: 400, errors: [{ field: 'host', message: 'is used by another store' }] }),
          { status: 400, headers: { 'Content-Type': 'application/problem+json' } },
        )
      }
      return op('change')
    }
    if (method === 'DELETE') return json(202, { ...store, phase: 'deleting' })
    return json(200, store)
  })
  return { calls, fetchImpl: fetchImpl as unknown as typeof fetch }
}

function renderPage(store: StoreResponse, me: Partial<Me> = {}, events: KubeEvent[] = []) {
  const api = fakeAPI(store, events)
  const client = new ApiClient('t', api.fetchImpl)
  const who: Me = { tenant: 'acme', role: 'tenant', tokenId: 'x', temporalWorkflowUrl: 'http://ui/w/{workflowId}', ...me }
  render(
    <SessionContext.Provider value={{ client, me: who }}>
      <Router>
        <StorePage name="shop" />
      </Router>
    </SessionContext.Provider>,
  )
  return api
}

describe('StorePage', () => {
  it.each<[string, Partial<StoreResponse>, Partial<Me>, string[]]>([
    ['a ready store', {}, {}, ['Show admin credentials', 'Suspend', 'Delete store', 'Save changes', 'Roll back']],
    ['a suspended store', { phase: 'suspended', suspended: true }, {}, ['Resume', 'Delete store', 'Save changes', 'Roll back']],
    ['a degraded store', { phase: 'degraded', message: 'rollback failed' }, {}, ['Retry', 'Delete store', 'Save changes', 'Roll back']],
    ['a failed store', { phase: 'failed', message: 'boom' }, {}, ['Retry', 'Delete store']],
    ['a stuck deletion, for a tenant', { phase: 'deletion_stuck', blockers: ['configmaps/held (x/y)'] }, {}, ['Retry']],
    ['a stuck deletion, for an admin', { phase: 'deletion_stuck' }, { role: 'admin' }, ['Retry', 'Force deletion']],
    ['a store being deleted', { phase: 'deleting' }, {}, []],
  ])('offers the right actions for %s', async (_, store, me, want) => {
    renderPage({ ...base, ...store }, me)
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    if (want.includes('Roll back')) await screen.findByRole('button', { name: 'Roll back to revision 1' })
    // The store's actions, its settings' and its history's; not the copy and refresh buttons.
    const buttons = screen
      .queryAllByRole('button')
      .map((b) => b.textContent)
      .filter((t) => t !== 'Copy' && t !== 'Refresh events')
    expect(buttons).toEqual(want)
  })

  it('sends only the changed settings, checked with the API rules', async () => {
    const api = renderPage({ ...base, title: 'Shop', size: 'small' })
    await screen.findByRole('heading', { name: 'Settings' })
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect((await screen.findByText('Nothing to change.')).getAttribute('role')).toBe('status')
    fireEvent.change(screen.getByLabelText('Admin email'), { target: { value: 'not-an-email' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect((await screen.findByText('Admin email must be an email address')).getAttribute('data-field-error')).toBe('adminEmail')
    expect(document.activeElement).toBe(screen.getByLabelText('Admin email'))
    fireEvent.change(screen.getByLabelText('Admin email'), { target: { value: '' } })
    fireEvent.change(screen.getByLabelText('Title'), { target: { value: 'Summer Sale' } })
    fireEvent.change(screen.getByLabelText('Size'), { target: { value: 'medium' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(api.calls).toContain('PATCH /api/stores/shop {"title":"Summer Sale","size":"medium"}'))
    expect(screen.queryByLabelText('Medusa image')).toBeNull()
  })

  it("shows the server's message on the field it names", async () => {
    renderPage({ ...base, title: 'Shop', size: 'small' })
    await screen.findByRole('heading', { name: 'Settings' })
    fireEvent.change(screen.getByLabelText('Host'), { target: { value: 'taken.example.com' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect((await screen.findByText('Host is used by another store')).getAttribute('data-field-error')).toBe('host')
  })

  it('rolls back to a revision after the name is typed', async () => {
    const api = renderPage(base)
    fireEvent.click(await screen.findByRole('button', { name: 'Roll back to revision 1' }))
    const input = screen.getByLabelText("Type the store's name to confirm")
    expect(document.activeElement).toBe(input)
    const confirm = screen.getByRole('button', { name: 'Confirm rollback to revision 1' }) as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    fireEvent.change(input, { target: { value: 'shop' } })
    fireEvent.click(confirm)
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/rollback {"revision":1}'))
    expect(screen.getByRole('row', { name: /title: "Old" -> "Shop"/ })).toBeTruthy()
  })

  it('suspends a ready store and says how its last operation ended', async () => {
    const api = renderPage({
      ...base,
      lastOperation: { kind: 'change', failed: true, reason: 'not ready in time', rolledBackTo: 2, workflowId: 'w', finishedAt: base.updatedAt },
    })
    expect((await screen.findByTestId('last-operation')).textContent).toBe('change failed: not ready in time; rolled back to revision 2')
    fireEvent.click(screen.getByRole('button', { name: 'Suspend' }))
    const dialog = screen.getByRole('alertdialog', { name: 'Suspend shop?' })
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Suspend shop' }))
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/suspend'))
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull())
  })

  it.each([
    ['Cancel', (d: HTMLElement) => fireEvent.click(within(d).getByRole('button', { name: 'Cancel' }))],
    ['Escape', (d: HTMLElement) => fireEvent.keyDown(within(d).getByRole('button', { name: 'Cancel' }), { key: 'Escape' })],
  ])('does not suspend when the confirmation is closed with %s', async (_, close) => {
    const api = renderPage(base)
    fireEvent.click(await screen.findByRole('button', { name: 'Suspend' }))
    close(screen.getByRole('alertdialog', { name: 'Suspend shop?' }))
    expect(screen.queryByRole('alertdialog')).toBeNull()
    expect(api.calls.filter((c) => c.startsWith('POST'))).toEqual([])
  })

  it('links the workflow in the Temporal Web UI', async () => {
    renderPage(base)
    const link = await screen.findByRole('link', { name: 'Creation in Temporal Web UI' })
    expect(link.getAttribute('href')).toBe('http://ui/w/store%2Fshop%2F1%2Fcreate')
  })

  it('fetches the credentials only when asked, and forgets them when hidden', async () => {
    const api = renderPage(base)
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    expect(api.calls.some((c) => c.includes('/credentials'))).toBe(false)
    fireEvent.click(screen.getByRole('button', { name: 'Show admin credentials' }))
    expect((await screen.findByTestId('password')).textContent).toBe('s3cret-s3cret-s3cret')
    fireEvent.click(screen.getByRole('button', { name: 'Hide admin credentials' }))
    expect(screen.queryByTestId('password')).toBeNull()
  })

  it('deletes only after the name is typed', async () => {
    const api = renderPage(base)
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    fireEvent.click(screen.getByRole('button', { name: 'Delete store' }))
    const input = screen.getByLabelText("Type the store's name to confirm")
    expect(document.activeElement).toBe(input)
    const confirm = screen.getByRole('button', { name: 'Delete shop' }) as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    fireEvent.change(input, { target: { value: 'sho' } })
    expect(confirm.disabled).toBe(true)
    fireEvent.change(input, { target: { value: 'shop' } })
    expect(confirm.disabled).toBe(false)
    fireEvent.click(confirm)
    await waitFor(() => expect(api.calls).toContain('DELETE /api/stores/shop'))
  })

  it('forces a stuck deletion only after the name is typed', async () => {
    const api = renderPage({ ...base, phase: 'deletion_stuck' }, { role: 'admin' })
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    fireEvent.click(screen.getByRole('button', { name: 'Force deletion' }))
    const input = screen.getByLabelText("Type the store's name to confirm")
    expect(document.activeElement).toBe(input)
    const confirm = screen.getByRole('button', { name: 'Force the deletion of shop' }) as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    expect(api.calls.filter((c) => c.startsWith('POST'))).toEqual([])
    fireEvent.change(input, { target: { value: 'shop' } })
    fireEvent.click(confirm)
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/retry {"force":true}'))
    // The buttons are disabled while the force request is under way.
    await waitFor(() => expect((screen.getByRole('button', { name: 'Retry' }) as HTMLButtonElement).disabled).toBe(false))
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/retry'))
  })
})

describe('StorePage times, URL and copying', () => {
  it('shows when the store was created and became ready', async () => {
    renderPage({ ...base, readyAt: '2026-11-26T10:02:05Z' })
    expect((await screen.findByTestId('created-at')).textContent).toBe(new Date(base.createdAt).toLocaleString())
    expect(screen.getByTestId('ready-at').textContent).toBe(new Date('2026-11-26T10:02:05Z').toLocaleString())
    expect(screen.getByTestId('ready-at').parentElement?.textContent).toContain('(2m 5s after its creation)')
  })

  it.each<[string, Partial<StoreResponse>, string | null, string?]>([
    ['a ready store', { urlAvailable: true }, null],
    ['a suspended store', { phase: 'suspended', suspended: true, urlAvailable: false }, 'This URL serves nothing while the store is suspended: resume it to serve the store again.'],
    ['a store the platform reports unreachable', { urlAvailable: false }, 'This URL serves nothing at the moment: the platform reports the store as not reachable.'],
    ['a stuck deletion', { phase: 'deletion_stuck', blockers: ['configmaps/held (example.com/hold)'] }, 'This URL serves nothing: the store is being deleted.'],
    ['a failed store', { phase: 'failed', message: 'boom' }, 'This URL serves nothing: the store failed. Retry it, or delete it.'],
    // The API's storeUrlNotice (the local stack's simulated nodes) for a
    // store that would serve; the store's own reason comes first.
    ['a ready store on simulated nodes', { urlAvailable: true }, 'Nothing serves this URL here.', 'Nothing serves this URL here.'],
    ['a suspended store on simulated nodes', { phase: 'suspended', suspended: true, urlAvailable: false }, 'This URL serves nothing while the store is suspended: resume it to serve the store again.', 'Nothing serves this URL here.'],
  ])('says whether the URL is served: %s', async (_, over, want, storeUrlNotice) => {
    renderPage({ ...base, ...over }, storeUrlNotice ? { storeUrlNotice } : {})
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    expect(screen.queryByTestId('url-notice')?.textContent ?? null).toBe(want)
    // A URL that serves nothing is not a link.
    expect(screen.queryByRole('link', { name: base.url }) !== null).toBe(want === null)
  })

  it('copies the URL and the credentials with the clipboard', async () => {
    const writeText = vi.fn(async () => {})
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    renderPage(base)
    fireEvent.click(await screen.findByRole('button', { name: 'Copy the URL' }))
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('http://shop.stores.localhost'))
    fireEvent.click(screen.getByRole('button', { name: 'Show admin credentials' }))
    await screen.findByTestId('password')
    for (const [label, text] of [
      ['Copy the login URL', 'http://shop.stores.localhost/wp-admin/'],
      ['Copy the username', 'admin'],
      ['Copy the password', 's3cret-s3cret-s3cret'],
    ]) {
      const button = screen.getByRole('button', { name: label })
      fireEvent.click(button)
      await waitFor(() => expect(writeText).toHaveBeenLastCalledWith(text))
      await waitFor(() => expect(button.parentElement?.textContent).toBe('CopyCopied'))
    }
  })

  it.each<[string, boolean, string]>([
    ['falls back to the copy command without a clipboard', true, 'Copied'],
    ['asks to copy by hand when the browser copies nothing', false, 'Copying is blocked here: select the text and copy it'],
  ])('%s', async (_, works, want) => {
    const execCommand = vi.fn(() => works)
    Object.defineProperty(document, 'execCommand', { value: execCommand, configurable: true })
    renderPage(base)
    const button = await screen.findByRole('button', { name: 'Copy the URL' })
    fireEvent.click(button)
    await waitFor(() => expect(button.parentElement?.querySelector('[role=status]')?.textContent).toBe(want))
    expect(execCommand).toHaveBeenCalledWith('copy')
  })
})

describe('Kubernetes events', () => {
  const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString()
  const ev = (type: string, reason: string, object: string, lastSeen: string, count = 1): KubeEvent => ({
    type,
    reason,
    object,
    message: `${reason} on ${object}`,
    count,
    firstSeen: lastSeen,
    lastSeen,
  })

  it('orders warnings first, then the newest first', () => {
    const items = [
      ev('Normal', 'Scheduled', 'Pod/a', '2026-11-26T10:05:00Z'),
      ev('Warning', 'FailedScheduling', 'Pod/b', '2026-11-26T10:01:00Z'),
      ev('Normal', 'Pulled', 'Pod/c', '2026-11-26T10:06:00Z'),
      ev('Warning', 'BackOff', 'Pod/d', '2026-11-26T10:03:00Z'),
    ]
    expect(sortEvents(items).map((e) => e.reason)).toEqual(['BackOff', 'FailedScheduling', 'Pulled', 'Scheduled'])
  })

  it("lists the namespace's events with type, reason, object, message, count and last seen", async () => {
    renderPage({ ...base, phase: 'provisioning', url: undefined }, {}, [
      ev('Normal', 'Scheduled', 'Pod/shop-mariadb-0', ago(30)),
      ev('Warning', 'FailedScheduling', 'Pod/shop-wordpress-7c9d', ago(120), 4),
    ])
    const table = await screen.findByRole('table', { name: '' })
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((r) => within(r).getAllByRole('cell').map((c) => c.textContent))
    expect(rows).toEqual([
      ['Warning', 'FailedScheduling', 'Pod/shop-wordpress-7c9d', 'FailedScheduling on Pod/shop-wordpress-7c9d', '4', '2m ago'],
      ['Normal', 'Scheduled', 'Pod/shop-mariadb-0', 'Scheduled on Pod/shop-mariadb-0', '1', '30s ago'],
    ])
    expect(screen.getByTestId('warning-count').textContent).toBe('1 warning')
  })

  it('lists the first events, and all of them on demand', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ev('Normal', `Reason${i}`, `Pod/p${i}`, ago(i * 10)))
    renderPage(base, {}, many)
    const more = await screen.findByRole('button', { name: 'Show all 11 events' })
    const rows = () => document.querySelectorAll('tr[data-event-type]').length
    expect(rows()).toBe(8)
    fireEvent.click(more)
    expect(rows()).toBe(11)
    expect(more.getAttribute('aria-expanded')).toBe('true')
    expect(more.textContent).toBe('Show the first 8 events')
  })

  it('says when the namespace has no events', async () => {
    renderPage(base)
    expect(await screen.findByText('No events in this namespace.')).toBeTruthy()
  })
})
