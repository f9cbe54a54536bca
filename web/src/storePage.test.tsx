import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type Me, type StoreResponse } from './api'
import { StorePage } from './components/StorePage'
import { Router } from './router'
import { SessionContext } from './session'

afterEach(cleanup)

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
function fakeAPI(store: StoreResponse) {
  const calls: string[] = []
  const fetchImpl = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET'
    calls.push(`${method} ${url}${init?.body ? ' ' + init.body : ''}`)
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    if (url.endsWith('/events')) return new Response('retry: 600000\n\n', { status: 200 })
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

function renderPage(store: StoreResponse, me: Partial<Me> = {}) {
  const api = fakeAPI(store)
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
    const buttons = screen.queryAllByRole('button').map((b) => b.textContent)
    expect(buttons).toEqual(want)
  })

  it('sends only the changed settings, checked with the API rules', async () => {
    const api = renderPage({ ...base, title: 'Shop', size: 'small' })
    await screen.findByRole('heading', { name: 'Settings' })
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect((await screen.findByRole('status', { name: '' })).textContent).toBe('Nothing to change.')
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
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/suspend'))
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

  it('sends force only from the admin button', async () => {
    const api = renderPage({ ...base, phase: 'deletion_stuck' }, { role: 'admin' })
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    fireEvent.click(screen.getByRole('button', { name: 'Force deletion' }))
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/retry {"force":true}'))
    // The buttons are disabled while the force request is under way.
    await waitFor(() => expect((screen.getByRole('button', { name: 'Retry' }) as HTMLButtonElement).disabled).toBe(false))
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await waitFor(() => expect(api.calls).toContain('POST /api/stores/shop/retry'))
  })
})
