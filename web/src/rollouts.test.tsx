import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import type { ReactElement } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, type Me, type RolloutState } from './api'
import { RolloutPage, Rollouts, validateRollout } from './components/Rollouts'
import { Router } from './router'
import { SessionContext } from './session'

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

function renderWith(page: ReactElement, events = '', role: Me['role'] = 'admin') {
  const calls: string[] = []
  const fetchImpl = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET'
    calls.push(`${method} ${url}${init?.body ? ' ' + init.body : ''}`)
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    if (url.endsWith('/events')) return new Response(`retry: 600000\n\n${events}`, { status: 200 })
    if (url === '/api/chart-versions') return json(200, { default: '0.2.0', items: [{ version: '0.3.0' }, { version: '0.2.0', current: true }] })
    if (url === '/api/rollouts' && method === 'GET') return json(200, { items: [{ id: 'r0', workflowId: 'rollout/r0', chartVersion: '0.2.0', status: 'Completed', startedAt: '2026-11-26T10:00:00Z' }] })
    if (url === '/api/rollouts') return json(202, { id: 'r1', workflowId: 'rollout/r1', chartVersion: '0.3.0', status: 'Running', startedAt: '2026-11-26T10:00:00Z' })
    if (url.endsWith('/pause') || url.endsWith('/abort')) return json(202, { rollout: 'r1', signal: 'x' })
    return json(200, state({}))
  })
  const client = new ApiClient('t', fetchImpl as unknown as typeof fetch)
  render(
    <SessionContext.Provider value={{ client, me: { tenant: 'ops', role, tokenId: 'x' } }}>
      <Router>{page}</Router>
    </SessionContext.Provider>,
  )
  return calls
}

describe('validateRollout', () => {
  it.each([
    [{ chartVersion: '', canary: '1', batchSize: '10', maxFailures: '0' }, ['chartVersion']],
    [{ chartVersion: '0.3.0', canary: '0', batchSize: '0', maxFailures: '-1' }, ['canary', 'batchSize', 'maxFailures']],
    [{ chartVersion: '0.3.0', canary: '1', batchSize: '101', maxFailures: '2' }, ['batchSize']],
    [{ chartVersion: '0.3.0', canary: '2', batchSize: '10', maxFailures: '0' }, []],
  ])('%j', (f, bad) => {
    expect(Object.keys(validateRollout({ ...f, engine: '', tenant: '' }))).toEqual(bad)
  })
})

describe('Rollouts', () => {
  it('starts a rollout with the chosen settings', async () => {
    const calls = renderWith(<Rollouts />)
    await screen.findByRole('option', { name: /0\.3\.0/ })
    expect(screen.getByRole('link', { name: 'r0' })).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Chart version'), { target: { value: '0.3.0' } })
    fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '5' } })
    fireEvent.change(screen.getByLabelText('Engine'), { target: { value: 'woocommerce' } })
    fireEvent.click(screen.getByRole('button', { name: 'Start rollout' }))
    await waitFor(() =>
      expect(calls).toContain(
        'POST /api/rollouts {"chartVersion":"0.3.0","canary":1,"batchSize":5,"maxFailures":0,"selector":{"engine":"woocommerce"}}',
      ),
    )
    await waitFor(() => expect(window.location.pathname).toBe('/rollouts/r1'))
  })

  it('is for admins only', async () => {
    const calls = renderWith(<Rollouts />, '', 'tenant')
    expect(await screen.findByText('Only admins run fleet rollouts.')).toBeTruthy()
    expect(calls).toEqual([])
  })
})

describe('RolloutPage', () => {
  it('follows the rollout live and sends pause and abort', async () => {
    const later = state({ batch: 2, stores: [{ name: 'a', state: 'ready', batch: 1, revision: 2 }, { name: 'b', state: 'upgrading', batch: 2 }], counts: { ready: 1, upgrading: 1 } })
    const calls = renderWith(<RolloutPage id="r1" />, `event: rollout\ndata: ${JSON.stringify(later)}\n\n`)
    await waitFor(() => expect(screen.getByTestId('batch').textContent).toBe('2'))
    expect(document.querySelector('tr[data-store="a"]')?.getAttribute('data-state')).toBe('ready')
    expect(screen.getByTestId('counts').textContent).toBe('1 ready, 1 upgrading')
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }))
    await waitFor(() => expect(calls).toContain('POST /api/rollouts/r1/pause'))
    fireEvent.click(screen.getByRole('button', { name: 'Abort' }))
    await waitFor(() => expect(calls).toContain('POST /api/rollouts/r1/abort'))
  })

  it('offers no controls once the rollout has ended', async () => {
    const done = state({ status: 'failed', reason: 'the canary failed: a: not ready' })
    renderWith(<RolloutPage id="r1" />, `event: rollout\ndata: ${JSON.stringify(done)}\n\n`)
    expect(await screen.findByText('the canary failed: a: not ready')).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Abort' })).toBeNull()
  })
})
