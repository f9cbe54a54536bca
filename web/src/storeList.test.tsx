import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type StoreRecord } from './api'
import { StoreList } from './components/StoreList'
import { Router } from './router'
import { SessionContext } from './session'

afterEach(() => {
  cleanup()
  window.history.replaceState(null, '', '/')
})

const rec = (name: string, over: Partial<StoreRecord> = {}): StoreRecord => ({
  name,
  generation: 1,
  engine: 'woocommerce',
  host: `${name}.stores.localhost`,
  phase: 'ready',
  url: `http://${name}.stores.localhost`,
  namespace: `store-${name}`,
  createdAt: new Date(Date.now() - 90_000).toISOString(),
  updatedAt: new Date().toISOString(),
  ...over,
})

/** renderList serves pages by cursor and an event stream that sends events. */
function renderList(pages: Record<string, { items: StoreRecord[]; nextCursor?: string }>, events = '', listDelay = 0) {
  const urls: string[] = []
  const fetchImpl = vi.fn(async (url: string) => {
    urls.push(url)
    if (url === '/api/events') return new Response(`retry: 600000\n\n${events}`, { status: 200 })
    await new Promise((r) => setTimeout(r, listDelay))
    const u = new URL(url, 'http://x')
    const page = pages[u.searchParams.get('cursor') ?? ''] ?? { items: [] }
    return new Response(JSON.stringify(page), { status: 200, headers: { 'Content-Type': 'application/json' } })
  })
  const client = new ApiClient('t', fetchImpl as unknown as typeof fetch)
  render(
    <SessionContext.Provider value={{ client, me: { tenant: 'acme', role: 'tenant', tokenId: 'x' } }}>
      <Router>
        <StoreList />
      </Router>
    </SessionContext.Provider>,
  )
  return urls
}

const rows = () =>
  screen
    .queryAllByRole('row')
    .slice(1)
    .map((r) => within(r).getAllByRole('cell').concat(within(r).getAllByRole('rowheader')).map((c) => c.textContent))

describe('StoreList', () => {
  it('shows the empty state with a call to action', async () => {
    renderList({ '': { items: [] } })
    await screen.findByRole('heading', { name: 'No stores yet' })
    expect(screen.getByRole('link', { name: 'Create your first store' }).getAttribute('href')).toBe('/new')
  })

  it('shows name, engine, phase, age and URL, and pages with the cursor', async () => {
    const urls = renderList({
      '': { items: [rec('alpha'), rec('beta', { phase: 'provisioning', url: undefined, engine: 'medusa' })], nextCursor: 'c2' },
      c2: { items: [rec('gamma', { phase: 'failed' })] },
    })
    await screen.findByText('alpha')
    expect(rows()).toEqual([
      ['WooCommerce', 'Ready', '1m', 'alpha.stores.localhost', 'alpha'],
      ['Medusa', 'Provisioning', '1m', '—', 'beta'],
    ])
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }))
    await screen.findByText('gamma')
    expect(urls).toContain('/api/stores?cursor=c2&limit=20')
    expect((screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement).disabled).toBe(true)
    fireEvent.click(screen.getByRole('button', { name: 'Previous page' }))
    await screen.findByText('alpha')
  })

  it('filters by phase and engine through the API', async () => {
    const urls = renderList({ '': { items: [rec('alpha')] } })
    await screen.findByText('alpha')
    fireEvent.change(screen.getByLabelText('Phase'), { target: { value: 'failed' } })
    fireEvent.change(screen.getByLabelText('Engine'), { target: { value: 'medusa' } })
    await waitFor(() => expect(urls).toContain('/api/stores?status=failed&engine=medusa&limit=20'))
    expect(window.location.search).toBe('?status=failed&engine=medusa')
  })

  it.each([
    ['after the page loaded', 0],
    ['before the page loaded', 300],
  ])('follows the event stream without a reload: events %s', async (_, delay) => {
    const changed = rec('alpha', { phase: 'deleting', updatedAt: new Date(Date.now() + 1000).toISOString() })
    const added = rec('newer', { phase: 'requested', createdAt: new Date().toISOString() })
    const events = [changed, added].map((r) => `id: 1\nevent: store\ndata: ${JSON.stringify(r)}\n\n`).join('')
    renderList({ '': { items: [rec('alpha')] } }, events, delay)
    await waitFor(() => expect(rows().map((r) => `${r[4]}:${r[1]}`)).toEqual(['newer:Requested', 'alpha:Deleting']))
  })
})
