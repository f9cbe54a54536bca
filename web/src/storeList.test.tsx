import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type Me, type StoreRecord } from './api'
import { searchDelay, StoreList } from './components/StoreList'
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
function renderList(
  pages: Record<string, { items: StoreRecord[]; nextCursor?: string }>,
  events = '',
  listDelay = 0,
  role: Me['role'] = 'tenant',
  storeUrlNotice = '',
) {
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
    <SessionContext.Provider value={{ client, me: { tenant: 'acme', role, tokenId: 'x', ...(storeUrlNotice ? { storeUrlNotice } : {}) } }}>
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
  it.each<[string, string]>([
    ['a stack whose store URLs serve', ''],
    ['the local stack of simulated nodes', 'Nothing serves this URL: the nodes are simulated.'],
  ])('links store URLs only where they serve: %s', async (_, notice) => {
    renderList({ '': { items: [rec('alpha')] } }, '', 0, 'tenant', notice)
    await screen.findByText('alpha')
    const link = screen.queryByRole('link', { name: 'alpha.stores.localhost' })
    expect(link !== null).toBe(notice === '')
    expect(screen.queryByTestId('list-url-notice')?.textContent ?? '').toBe(notice)
  })

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

const names = () => screen.queryAllByRole('row').slice(1).map((r) => within(r).getByRole('rowheader').textContent)
const listCalls = (urls: string[]) => urls.filter((u) => u.startsWith('/api/stores'))

describe('StoreList search, sort and owner', () => {
  it('searches by the start of the name once typing pauses', async () => {
    const urls = renderList({ '': { items: [rec('alpha')] } })
    await screen.findByText('alpha')
    const box = screen.getByLabelText('Search by name')
    fireEvent.change(box, { target: { value: 'Sh' } })
    fireEvent.change(box, { target: { value: 'Sho' } })
    expect(listCalls(urls)).toEqual(['/api/stores?limit=20'])
    await waitFor(() => expect(listCalls(urls)).toEqual(['/api/stores?limit=20', '/api/stores?name=sho&limit=20']))
    expect(window.location.search).toBe('?name=sho')
  })

  it('sends no search the API would refuse, and says why', async () => {
    const urls = renderList({ '': { items: [rec('alpha')] } })
    await screen.findByText('alpha')
    fireEvent.change(screen.getByLabelText('Search by name'), { target: { value: 'my shop' } })
    expect((await screen.findByRole('alert')).textContent).toBe(
      "Search by name must be 1 to 40 characters: lowercase letters, digits and hyphens (the start of a store's name)",
    )
    await new Promise((r) => setTimeout(r, searchDelay + 100))
    expect(listCalls(urls)).toEqual(['/api/stores?limit=20'])
  })

  const note = ' Sorting orders the stores on this page; pages come newest first.'
  it.each<[string, string[], string[], string, string]>([
    ['newest first by default', [], ['gamma', 'beta', 'alpha'], 'Stores newest first.', 'created:descending'],
    ['by name', ['name'], ['alpha', 'beta', 'gamma'], 'Stores by name, A to Z.', 'name:ascending'],
    ['by name, reversed', ['name', 'name'], ['gamma', 'beta', 'alpha'], 'Stores by name, Z to A.', 'name:descending'],
    ['oldest first', ['created'], ['alpha', 'beta', 'gamma'], 'Stores oldest first.', 'created:ascending'],
    ['by phase', ['phase'], ['beta', 'alpha', 'gamma'], 'Stores by phase, in lifecycle order.', 'phase:ascending'],
  ])('sorts the rows on screen: %s', async (_, clicks, want, caption, ariaSort) => {
    const t = (min: number) => new Date(Date.now() - min * 60000).toISOString()
    renderList({
      '': {
        items: [
          rec('gamma', { createdAt: t(1), phase: 'failed' }),
          rec('beta', { createdAt: t(2), phase: 'provisioning' }),
          rec('alpha', { createdAt: t(3), phase: 'ready' }),
        ],
      },
    })
    await screen.findByText('alpha')
    for (const key of clicks) fireEvent.click(document.querySelector(`button[data-sort="${key}"]`) as HTMLElement)
    expect(names()).toEqual(want)
    expect(screen.getByTestId('sort-caption').textContent).toBe(caption + note)
    const sorted = screen.getAllByRole('columnheader').filter((h) => h.hasAttribute('aria-sort'))
    expect(sorted.map((h) => `${h.querySelector('button')?.dataset.sort}:${h.getAttribute('aria-sort')}`)).toEqual([ariaSort])
  })

  it('shows the owner and filters by owner, for admins', async () => {
    const urls = renderList({ '': { items: [rec('alpha', { owner: 'globex' })] } }, '', 0, 'admin')
    await screen.findByText('alpha')
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent?.replace(/[▲▼↕]|, sort by.*$/g, '').trim())).toEqual([
      'Name',
      'Owner',
      'Engine',
      'Phase',
      'Age',
      'URL',
    ])
    expect(screen.getByTestId('owner').textContent).toBe('globex')
    fireEvent.change(screen.getByLabelText('Owner'), { target: { value: 'globex' } })
    await waitFor(() => expect(listCalls(urls)).toContain('/api/stores?owner=globex&limit=20'))
  })

  it('shows no owner column or filter to a tenant', async () => {
    renderList({ '': { items: [rec('alpha', { owner: 'acme' })] } })
    await screen.findByText('alpha')
    expect(screen.queryByLabelText('Owner')).toBeNull()
    expect(screen.queryByTestId('owner')).toBeNull()
    expect(screen.getAllByRole('columnheader')).toHaveLength(5)
  })
})
