import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { Progress, StoreRecord } from './api'
import { ProgressView, stepTimeText } from './components/ProgressView'
import { buildSteps, lastError } from './progress'

afterEach(cleanup)

const rec = (r: Partial<StoreRecord>): StoreRecord => ({
  name: 'shop',
  generation: 1,
  engine: 'woocommerce',
  host: 'shop.stores.localhost',
  phase: 'provisioning',
  namespace: 'store-shop',
  createdAt: '2026-11-26T10:00:00Z',
  updatedAt: '2026-11-26T10:00:01Z',
  ...r,
})

const at = '2026-11-26T10:00:00Z'
const prog = (p: Partial<Progress>): Progress => ({
  workflow: 'create',
  store: 'shop',
  generation: 1,
  phase: 'provisioning',
  steps: [],
  attempt: 1,
  ...p,
})

const states = (steps: ReturnType<typeof buildSteps>) => steps.map((s) => `${s.name}:${s.state}`).join(' ')

const done = (name: string, attempt = 1) => ({ name, status: 'done' as const, startedAt: at, completedAt: at, attempt })
const running = (name: string, attempt = 1) => ({ name, status: 'running' as const, startedAt: at, attempt })
const failed = (name: string, error: string, attempt = 1) => ({ name, status: 'failed' as const, startedAt: at, completedAt: at, error, attempt })

describe('buildSteps', () => {
  it.each<[string, Partial<StoreRecord>, Progress | undefined, string]>([
    [
      'a creation that has not started',
      { phase: 'requested' },
      undefined,
      'record:pending namespace:pending credentials:pending install:pending wait-ready:pending record:pending',
    ],
    [
      'a creation waiting for readiness',
      {},
      prog({
        currentStep: 'wait-ready',
        steps: [done('record'), done('namespace'), done('credentials'), done('install'), running('wait-ready')],
      }),
      'record:done namespace:done credentials:done install:done wait-ready:running record:pending',
    ],
    [
      'a ready store whose workflow has ended',
      { phase: 'ready' },
      undefined,
      'record:done namespace:done credentials:done install:done wait-ready:done record:done',
    ],
    [
      'a ready store whose last progress was seen mid-way',
      { phase: 'ready' },
      prog({ steps: [done('record'), done('namespace'), done('credentials'), done('install'), running('wait-ready')] }),
      'record:done namespace:done credentials:done install:done wait-ready:done record:done',
    ],
    [
      'a failed creation, compensated, shows only this attempt',
      { phase: 'failed' },
      prog({
        phase: 'failed',
        attempt: 2,
        steps: [
          done('record'),
          done('namespace'),
          failed('credentials', 'old failure'),
          done('compensate'),
          done('record', 2),
          done('namespace', 2),
          done('credentials', 2),
          failed('install', 'chart rejected', 2),
          done('compensate', 2),
        ],
      }),
      'record:done namespace:done credentials:done install:failed compensate:done wait-ready:skipped record:skipped',
    ],
    [
      'a deletion stuck on the namespace',
      { phase: 'deletion_stuck' },
      prog({
        workflow: 'delete',
        phase: 'deletion_stuck',
        steps: [done('record'), done('stop-create'), done('uninstall'), failed('delete-namespace', 'namespace still has content')],
      }),
      'record:done stop-create:done uninstall:done delete-namespace:failed record:pending',
    ],
    [
      'a forced deletion runs the namespace step again',
      { phase: 'deleting' },
      prog({
        workflow: 'delete',
        steps: [
          done('record'),
          done('stop-create'),
          done('uninstall'),
          failed('delete-namespace', 'stuck'),
          done('force'),
          running('delete-namespace'),
        ],
      }),
      'record:done stop-create:done uninstall:done delete-namespace:running force:done record:pending',
    ],
    [
      'a deleted store whose workflow has ended',
      { phase: 'deleted' },
      undefined,
      'record:done stop-create:done uninstall:done delete-namespace:done record:done',
    ],
    [
      'a change waiting for readiness',
      { phase: 'updating', operation: { kind: 'change', workflowId: 'store/shop/1/operation' } },
      prog({ workflow: 'change', phase: 'updating', steps: [done('record'), done('release-state'), done('upgrade'), running('wait-ready')] }),
      'record:done release-state:done upgrade:done wait-ready:running record:pending',
    ],
    [
      'a change rolled back after its deadline',
      { phase: 'updating' },
      prog({
        workflow: 'change',
        phase: 'updating',
        steps: [done('record'), done('release-state'), done('upgrade'), failed('wait-ready', 'timed out'), running('auto-rollback')],
      }),
      'record:done release-state:done upgrade:done wait-ready:failed auto-rollback:running record:pending',
    ],
    [
      'a rollback that has ended',
      { phase: 'ready', lastOperation: { kind: 'rollback', failed: false, revision: 5, workflowId: 'w', finishedAt: at } },
      undefined,
      'record:done release-state:done rollback:done wait-ready:done record:done',
    ],
    [
      'a suspension that has ended',
      { phase: 'suspended', lastOperation: { kind: 'suspend', failed: false, workflowId: 'w', finishedAt: at } },
      undefined,
      'record:done release-state:done upgrade:done wait-ready:done record:done',
    ],
  ])('%s', (_, r, p, want) => {
    expect(states(buildSteps(rec(r), p))).toBe(want)
  })

  it('labels the two status writes apart', () => {
    const steps = buildSteps(rec({ phase: 'requested' }))
    expect(steps[0].label).toBe('Record the store as provisioning')
    expect(steps[5].label).toBe('Record the store as ready')
  })
})

describe('lastError', () => {
  it.each<[string, Partial<StoreRecord>, Progress | undefined, string]>([
    ['from the progress', {}, prog({ lastError: 'install: timed out' }), 'install: timed out'],
    ['from a failed record', { phase: 'failed', message: 'image pull failed' }, undefined, 'image pull failed'],
    ['none while things go well', { message: '2/3 ready' }, undefined, ''],
    ['from a degraded record', { phase: 'degraded', message: 'the rollback failed too' }, undefined, 'the rollback failed too'],
  ])('%s', (_, r, p, want) => {
    expect(lastError(rec(r), p)).toBe(want)
  })
})

describe('ProgressView', () => {
  it('shows each step, the workloads and the last error', () => {
    render(
      <ProgressView
        record={rec({
          workloads: [
            { kind: 'StatefulSet', name: 'shop-mariadb', ready: 1, desired: 1 },
            { kind: 'Deployment', name: 'shop-wordpress', ready: 0, desired: 1, reason: 'waiting' },
          ],
        })}
        progress={prog({
          lastError: 'wait-ready: shop-wordpress not ready',
          steps: [done('record'), done('namespace'), done('credentials'), done('install'), running('wait-ready')],
        })}
      />,
    )
    expect(screen.getByRole('heading', { name: 'Creation progress' })).toBeTruthy()
    const items = screen.getAllByRole('listitem').filter((li) => li.hasAttribute('data-step'))
    expect(items.map((li) => `${li.dataset.step}=${li.dataset.state}`)).toEqual([
      'record=done',
      'namespace=done',
      'credentials=done',
      'install=done',
      'wait-ready=running',
      'record=pending',
    ])
    expect(within(items[4]).getByText('in progress')).toBeTruthy()
    const workloads = within(screen.getByRole('list', { name: 'Workloads' })).getAllByRole('listitem')
    expect(workloads.map((w) => w.textContent)).toEqual([
      'StatefulSet shop-mariadb 1/1 ready',
      'Deployment shop-wordpress 0/1 ready (waiting)',
    ])
    expect(screen.getByRole('alert').textContent).toContain('wait-ready: shop-wordpress not ready')
  })

  it('says when the workflow waits for a signal', () => {
    render(<ProgressView record={rec({ phase: 'failed', message: 'boom' })} progress={prog({ phase: 'failed', waitingFor: 'retry' })} />)
    expect(screen.getByText('retry')).toBeTruthy()
    expect(screen.getByRole('alert').textContent).toContain('boom')
  })
})

describe('stepTimeText', () => {
  const start = '2026-11-26T10:00:00Z'
  const t = (iso: string) => new Date(iso).toLocaleTimeString()
  it.each<[string, Parameters<typeof stepTimeText>[0], string]>([
    ['a step not started', { name: 'install', label: 'Install', state: 'pending' }, ''],
    ['a finished step', { name: 'install', label: 'Install', state: 'done', startedAt: start, completedAt: '2026-11-26T10:01:05Z' }, `started ${t(start)}, took 1m 5s`],
    ['a running step', { name: 'wait-ready', label: 'Wait', state: 'running', startedAt: start }, `started ${t(start)}, running for 42s`],
    ['a quick step', { name: 'record', label: 'Record', state: 'done', startedAt: start, completedAt: '2026-11-26T10:00:00.250Z' }, `started ${t(start)}, took 250ms`],
  ])('%s', (_, step, want) => {
    expect(stepTimeText(step, Date.parse(start) + 42_000)).toBe(want)
  })

  it('shows each started step with its start and duration', () => {
    render(
      <ProgressView
        record={rec({})}
        progress={prog({
          steps: [
            { name: 'record', status: 'done', startedAt: at, completedAt: '2026-11-26T10:00:02Z', attempt: 1 },
            { name: 'namespace', status: 'done', startedAt: '2026-11-26T10:00:02Z', completedAt: '2026-11-26T10:00:03Z', attempt: 1 },
          ],
        })}
      />,
    )
    expect(screen.getAllByTestId('step-time').map((e) => e.textContent)).toEqual([
      `started ${t(at)}, took 2s`,
      `started ${t('2026-11-26T10:00:02Z')}, took 1s`,
    ])
  })
})
