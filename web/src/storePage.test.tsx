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
    ['a ready store', {}, {}, ['Show admin credentials', 'Delete store']],
    ['a failed store', { phase: 'failed', message: 'boom' }, {}, ['Retry', 'Delete store']],
    ['a stuck deletion, for a tenant', { phase: 'deletion_stuck', blockers: ['configmaps/held (x/y)'] }, {}, ['Retry']],
    ['a stuck deletion, for an admin', { phase: 'deletion_stuck' }, { role: 'admin' }, ['Retry', 'Force deletion']],
    ['a store being deleted', { phase: 'deleting' }, {}, []],
  ])('offers the right actions for %s', async (_, store, me, want) => {
    renderPage({ ...base, ...store }, me)
    await screen.findByRole('heading', { name: 'shop', level: 1 })
    const buttons = screen.queryAllByRole('button').map((b) => b.textContent)
    expect(buttons).toEqual(want)
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
