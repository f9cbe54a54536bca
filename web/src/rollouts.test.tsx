import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import type { ReactElement } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type Me, type RolloutState, type StoreRecord } from './api'
import { RolloutPage, Rollouts, rolloutTargets, validateRollout } from './components/Rollouts'
import { Router } from './router'
import { SessionContext } from './session'
import { json, problem } from './testing'

afterEach(() => {
  cleanup()
  window.history.replaceState(null, '', '/')
})

const state = (over: Partial<RolloutState>): RolloutState => ({
  id: 'r1',
  chartVersion: '0.3.0',
  canary: 1,
  batchSize: 5,
  maxFailures: 1,
  selector: {},
  status: 'running',
  batch: 1,
  stores: [
    { name: 'a', state: 'upgrading', batch: 1 },
    { name: 'b', state: 'pending' },
  ],
  counts: { upgrading: 1, pending: 1 },
  failures: 0,
  ...over,
})

const rec = (name: string, over: Partial<StoreRecord> = {}): StoreRecord => ({
  name,
  generation: 1,
  engine: 'woocommerce',
  host: `${name}.stores.localhost`,
  phase: 'ready',
  namespace: `store-${name}`,
  owner: 'acme',
  chartVersion: '0.2.0',
  createdAt: '2026-11-26T10:00:00Z',
  updatedAt: '2026-11-26T10:00:00Z',
  ...over,
})

interface Fake {
  events?: string
  role?: Me['role']
  /** pages answer GET /api/stores by cursor. */
  pages?: Record<string, { items: StoreRecord[]; nextCursor?: string }>
  /** fail makes these paths answer 500. */
  fail?: string[]
  /** rollout answers GET /api/rollouts/r1. */
  rollout?: () => Response
}

function renderWith(page: ReactElement, f: Fake = {}) {
  const calls: string[] = []
  const fetchImpl = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET'
    calls.push(`${method} ${url}${init?.body ? ' ' + init.body : ''}`)
    const path = url.split('?')[0]
    if (f.fail?.includes(path)) return problem(500, { type: 'https://storeplatform.io/problems/internal', title: 'Internal error', detail: 'boom' })
    if (url.endsWith('/events')) return new Response(`retry: 600000\n\n${f.events ?? ''}`, { status: 200 })
    if (url === '/api/chart-versions') return json(200, { default: '0.2.0', items: [{ version: '0.3.0' }, { version: '0.2.0', current: true }] })
    if (path === '/api/stores') {
      const cursor = new URL(url, 'http://x').searchParams.get('cursor') ?? ''
      return json(200, f.pages?.[cursor] ?? { items: [] })
    }
    if (url === '/api/rollouts' && method === 'GET')
      return json(200, { items: [{ id: 'r0', workflowId: 'rollout/r0', chartVersion: '0.2.0', status: 'Completed', startedAt: '2026-11-26T10:00:00Z' }] })
    if (url === '/api/rollouts') return json(202, { id: 'r1', workflowId: 'rollout/r1', chartVersion: '0.3.0', status: 'Running', startedAt: '2026-11-26T10:00:00Z' })
    if (url.endsWith('/pause') || url.endsWith('/abort')) return json(202, { rollout: 'r1', signal: 'x' })
    if (f.rollout) return f.rollout()
    return json(200, state({}))
  })
  const client = new ApiClient('t', fetchImpl as unknown as typeof fetch)
  render(
    <SessionContext.Provider value={{ client, me: { tenant: 'ops', role: f.role ?? 'admin', tokenId: 'x', temporalWorkflowUrl: 'http://ui/w/{workflowId}' } }}>
      <Router>{page}</Router>
    </SessionContext.Provider>,
  )
  return calls
}

describe('validateRollout', () => {
  it.each([
    [{ chartVersion: '', canary: '1', batchSize: '10', maxFailures: '0', tenant: '' }, ['chartVersion']],
    [{ chartVersion: '0.3.0', canary: '0', batchSize: '0', maxFailures: '-1', tenant: '' }, ['canary', 'batchSize', 'maxFailures']],
    [{ chartVersion: '0.3.0', canary: '1', batchSize: '101', maxFailures: '2', tenant: '' }, ['batchSize']],
    [{ chartVersion: '0.3.0', canary: '1', batchSize: '10', maxFailures: '0', tenant: 'not a tenant' }, ['tenant']],
    [{ chartVersion: '0.3.0', canary: '2', batchSize: '10', maxFailures: '0', tenant: 'acme' }, []],
  ])('%j', (f, bad) => {
    expect(Object.keys(validateRollout({ ...f, engine: '' }))).toEqual(bad)
  })
})

describe('rolloutTargets', () => {
  it('upgrades the stores not on the version, as ListRolloutTargets does', () => {
    const stores = [
      rec('on-old'),
      rec('on-new', { chartVersion: '0.3.0' }),
      rec('unrecorded', { chartVersion: undefined }),
      rec('failed', { phase: 'failed' }),
      rec('gone', { phase: 'deleted' }),
    ]
    const got = rolloutTargets(stores, '0.3.0')
    expect({ targets: got.targets.map((r) => r.name), onVersion: got.onVersion }).toEqual({
      targets: ['on-old', 'unrecorded', 'failed'],
      onVersion: 1,
    })
  })
})

describe('Rollouts', () => {
  const pages = {
    '': { items: [rec('a'), rec('b', { chartVersion: '0.3.0' })], nextCursor: 'c2' },
    c2: { items: [rec('c', { owner: 'globex' })] },
  }

  it('lists the stores it would touch, then starts only when confirmed', async () => {
    const calls = renderWith(<Rollouts />, { pages })
    await screen.findByRole('option', { name: /0\.3\.0/ })
    fireEvent.change(screen.getByLabelText('Chart version'), { target: { value: '0.3.0' } })
    fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '5' } })
    fireEvent.change(screen.getByLabelText('Engine'), { target: { value: 'woocommerce' } })
    fireEvent.change(screen.getByLabelText('Tenant'), { target: { value: 'acme' } })
    fireEvent.click(screen.getByRole('button', { name: 'Review the stores' }))
    const dialog = await screen.findByRole('alertdialog', { name: 'Start the rollout to 0.3.0?' })
    expect(calls.filter((c) => c.startsWith('GET /api/stores'))).toEqual([
      'GET /api/stores?engine=woocommerce&owner=acme&limit=100',
      'GET /api/stores?engine=woocommerce&owner=acme&cursor=c2&limit=100',
    ])
    expect(within(dialog).getByTestId('rollout-preview').querySelector('p')?.textContent).toBe(
      '2 stores of WooCommerce, tenant acme would be upgraded to 0.3.0, the canary first; 1 already on it is left alone.',
    )
    expect([...dialog.querySelectorAll('tr[data-preview-store]')].map((r) => r.textContent)).toEqual([
      'aacmeWooCommerceReady0.2.0',
      'cglobexWooCommerceReady0.2.0',
    ])
    expect(calls.some((c) => c.startsWith('POST'))).toBe(false)
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start rollout on 2 stores' }))
    await waitFor(() =>
      expect(calls).toContain(
        'POST /api/rollouts {"chartVersion":"0.3.0","canary":1,"batchSize":5,"maxFailures":0,"selector":{"engine":"woocommerce","tenant":"acme"}}',
      ),
    )
    await waitFor(() => expect(window.location.pathname).toBe('/rollouts/r1'))
  })

  it('starts nothing when the preview is cancelled, or when a setting changes', async () => {
    const calls = renderWith(<Rollouts />, { pages })
    await screen.findByRole('option', { name: /0\.3\.0/ })
    fireEvent.change(screen.getByLabelText('Chart version'), { target: { value: '0.3.0' } })
    fireEvent.click(screen.getByRole('button', { name: 'Review the stores' }))
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('alertdialog')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Review the stores' }))
    await screen.findByRole('alertdialog')
    fireEvent.change(screen.getByLabelText('Canary stores'), { target: { value: '2' } })
    expect(screen.queryByRole('alertdialog')).toBeNull()
    expect(calls.some((c) => c.startsWith('POST'))).toBe(false)
  })

  it('shows the status and the workflow of each rollout in their columns', async () => {
    renderWith(<Rollouts />)
    const row = (await screen.findByRole('link', { name: 'r0' })).closest('tr') as HTMLElement
    const head = screen.getAllByRole('columnheader').map((h) => h.textContent)
    const cells = within(row).getAllByRole('cell').map((c) => c.textContent)
    expect(head.slice(-5)).toEqual(['Rollout', 'Version', 'Status', 'Workflow', 'Started'])
    expect(cells.slice(0, 4)).toEqual(['r0', '0.2.0', 'Completed', 'rollout/r0'])
    expect(within(row).getByRole('link', { name: 'rollout/r0' }).getAttribute('href')).toBe('http://ui/w/rollout%2Fr0')
  })

  it.each([
    ['the rollouts', '/api/rollouts', 'The rollouts could not be loaded: Internal error: boom'],
    ['the chart versions', '/api/chart-versions', 'The chart versions could not be loaded: Internal error: boom'],
  ])('says when %s fail to load', async (_, path, want) => {
    renderWith(<Rollouts />, { fail: [path] })
    expect((await screen.findByRole('alert')).textContent).toBe(want)
    if (path === '/api/rollouts') expect(screen.queryByText('Loading…')).toBeNull()
  })

  it('is for admins only', async () => {
    const calls = renderWith(<Rollouts />, { role: 'tenant' })
    expect(await screen.findByText('Only admins run fleet rollouts.')).toBeTruthy()
    expect(calls).toEqual([])
  })
})

describe('RolloutPage', () => {
  it('follows the rollout live, pauses, and aborts once confirmed', async () => {
    const later = state({ batch: 2, stores: [{ name: 'a', state: 'ready', batch: 1, revision: 2 }, { name: 'b', state: 'upgrading', batch: 2 }], counts: { ready: 1, upgrading: 1 } })
    const calls = renderWith(<RolloutPage id="r1" />, { events: `event: rollout\ndata: ${JSON.stringify(later)}\n\n` })
    await waitFor(() => expect(screen.getByTestId('batch').textContent).toBe('2'))
    expect(document.querySelector('tr[data-store="a"]')?.getAttribute('data-state')).toBe('ready')
    expect(screen.getByTestId('counts').textContent).toBe('1 ready, 1 upgrading')
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }))
    await waitFor(() => expect(calls).toContain('POST /api/rollouts/r1/pause'))
    fireEvent.click(screen.getByRole('button', { name: 'Abort' }))
    const dialog = screen.getByRole('alertdialog', { name: 'Abort rollout r1?' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(calls).not.toContain('POST /api/rollouts/r1/abort')
    fireEvent.click(screen.getByRole('button', { name: 'Abort' }))
    fireEvent.click(screen.getByRole('button', { name: 'Abort the rollout' }))
    await waitFor(() => expect(calls).toContain('POST /api/rollouts/r1/abort'))
  })

  it('shows a rollout that has not listed its stores yet', async () => {
    const early = { ...state({ batch: 0 }), stores: null, counts: null } as unknown as RolloutState
    renderWith(<RolloutPage id="r1" />, { rollout: () => json(200, early), events: `event: rollout\ndata: ${JSON.stringify(early)}\n\n` })
    await waitFor(() => expect(screen.getByTestId('counts').textContent).toBe('none'))
    expect(document.querySelectorAll('tr[data-store]')).toHaveLength(0)
  })

  it('offers no controls once the rollout has ended', async () => {
    const done = state({ status: 'failed', reason: 'the canary failed: a: not ready' })
    renderWith(<RolloutPage id="r1" />, { events: `event: rollout\ndata: ${JSON.stringify(done)}\n\n` })
    expect(await screen.findByText('the canary failed: a: not ready')).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Abort' })).toBeNull()
  })

  it.each([
    ['missing', () => problem(404, { type: 'https://storeplatform.io/problems/not-found', title: 'Not found' }), 'There is no rollout r1.'],
    ['failing', () => problem(503, { type: 'https://storeplatform.io/problems/unavailable', title: 'Temporal is unavailable', detail: 'retry' }), 'Temporal is unavailable: retry'],
  ])('says why a %s rollout does not load, and stops saying Loading', async (_, answer, want) => {
    renderWith(<RolloutPage id="r1" />, { rollout: answer })
    expect(screen.getByRole('status').textContent).toBe('Loading the rollout…')
    expect((await screen.findByRole('alert')).textContent).toBe(want)
    expect(screen.queryByRole('status')).toBeNull()
  })
})
